//! Errors of the upload model and their wire reason strings.

use std::io;

use serde::{Deserialize, Serialize};

/// The result type of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Alias of [`Error`], for call sites that read better with the longer name
/// (`UploadError::FileSizeLimitExceeded { limit }`).
pub type UploadError = Error;

/// An error raised by an upload operation.
///
/// Errors that travel to the client have a wire reason ([`Error::reason`]);
/// [`Error::reply`] builds the `{"reason": …, "limit": …}` payload of an
/// error `phx_reply` on the `lvu:` channel.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The `lvu:` join token did not verify, or does not belong to this view
    /// or entry. Wire reason `invalid_token`.
    #[error("invalid upload token")]
    InvalidToken,
    /// An upload channel is already registered for the entry. Wire reason
    /// `already_registered`.
    #[error("an upload is already registered for entry {0:?}")]
    AlreadyRegistered(String),
    /// The entry may not be uploaded: unknown, invalid, cancelled or not
    /// preflighted. Wire reason `disallowed`.
    #[error("upload of entry {0:?} is not allowed")]
    Disallowed(String),
    /// A chunk would take the received bytes past the declared size of the
    /// entry or the config's `max_file_size`. Wire reason
    /// `file_size_limit_exceeded` with `limit`.
    #[error("file size limit of {limit} bytes exceeded")]
    FileSizeLimitExceeded {
        /// The byte limit that was exceeded.
        limit: u64,
    },
    /// Storing a chunk failed. Wire reason `writer_error`.
    #[error("upload writer error: {0}")]
    Writer(#[source] io::Error),
    /// No entry with this ref exists in the config.
    #[error("no upload entry with ref {0:?}")]
    UnknownEntry(String),
    /// A progress value outside `0..=100`.
    #[error("invalid upload progress {0}")]
    InvalidProgress(u64),
    /// Invalid [`UploadOptions`](crate::UploadOptions) (e.g. a malformed
    /// `accept` filter or a zero limit).
    #[error("invalid upload options: {0}")]
    InvalidOptions(String),
    /// The socket has as many upload channels open as it may (the limit is
    /// given). Wire reason `too_many_uploads`.
    #[error("too many uploads at once on one socket (at most {0})")]
    TooManyUploads(usize),
}

impl Error {
    /// The wire reason string of this error (`"invalid_token"`,
    /// `"already_registered"`, `"disallowed"`, `"file_size_limit_exceeded"`,
    /// `"writer_error"`, …).
    ///
    /// Errors that never reach the client map to descriptive snake_case
    /// strings (`"unknown_entry"`, `"invalid_progress"`, `"invalid_options"`).
    pub fn reason(&self) -> &'static str {
        match self {
            Error::InvalidToken => "invalid_token",
            Error::AlreadyRegistered(_) => "already_registered",
            Error::Disallowed(_) => "disallowed",
            Error::FileSizeLimitExceeded { .. } => "file_size_limit_exceeded",
            Error::Writer(_) => "writer_error",
            Error::UnknownEntry(_) => "unknown_entry",
            Error::InvalidProgress(_) => "invalid_progress",
            Error::InvalidOptions(_) => "invalid_options",
            Error::TooManyUploads(_) => "too_many_uploads",
        }
    }

    /// The `response` of an error `phx_reply` for this error:
    /// `{"reason": "…"}`, plus `"limit"` for
    /// [`Error::FileSizeLimitExceeded`].
    pub fn reply(&self) -> ErrorReply {
        ErrorReply {
            reason: self.reason().to_owned(),
            limit: match self {
                Error::FileSizeLimitExceeded { limit } => Some(*limit),
                _ => None,
            },
        }
    }
}

/// The serializable error payload of an `lvu:` channel reply
/// (`{"reason":"file_size_limit_exceeded","limit":8000000}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorReply {
    /// The wire reason.
    pub reason: String,
    /// The exceeded byte limit, only for `file_size_limit_exceeded`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
}

/// A validation error attached to an entry (or, for
/// [`EntryError::TooManyFiles`], to the whole config).
///
/// Serializes as its wire reason string.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EntryError {
    /// The declared size is larger than `max_file_size` (`"too_large"`).
    TooLarge,
    /// Neither the MIME type nor the extension matches `accept`
    /// (`"not_accepted"`).
    NotAccepted,
    /// More entries than `max_entries` (`"too_many_files"`); keyed by the
    /// config ref.
    TooManyFiles,
    /// The client reported a failed upload in a `progress` message
    /// (`"external_client_failure"`).
    ExternalClientFailure,
    /// No chunk arrived within the config's `chunk_timeout`: the upload was
    /// stopped and its partial file deleted (`"chunk_timeout"`).
    ChunkTimeout,
    /// An application-defined reason.
    Custom(String),
}

impl EntryError {
    /// The wire reason string.
    pub fn reason(&self) -> &str {
        match self {
            EntryError::TooLarge => "too_large",
            EntryError::NotAccepted => "not_accepted",
            EntryError::TooManyFiles => "too_many_files",
            EntryError::ExternalClientFailure => "external_client_failure",
            EntryError::ChunkTimeout => "chunk_timeout",
            EntryError::Custom(reason) => reason,
        }
    }

    /// Parses a wire reason; unknown reasons become [`EntryError::Custom`].
    pub fn from_reason(reason: &str) -> Self {
        match reason {
            "too_large" => EntryError::TooLarge,
            "not_accepted" => EntryError::NotAccepted,
            "too_many_files" => EntryError::TooManyFiles,
            "external_client_failure" => EntryError::ExternalClientFailure,
            "chunk_timeout" => EntryError::ChunkTimeout,
            other => EntryError::Custom(other.to_owned()),
        }
    }
}

impl std::fmt::Display for EntryError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.reason())
    }
}

impl Serialize for EntryError {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.reason())
    }
}

impl<'de> Deserialize<'de> for EntryError {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let reason = String::deserialize(deserializer)?;
        Ok(EntryError::from_reason(&reason))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_and_reply() {
        let err = Error::FileSizeLimitExceeded { limit: 12 };
        assert_eq!(err.reason(), "file_size_limit_exceeded");
        assert_eq!(
            serde_json::to_string(&err.reply()).unwrap(),
            r#"{"reason":"file_size_limit_exceeded","limit":12}"#
        );
        let err = Error::Writer(io::Error::other("disk full"));
        assert_eq!(
            serde_json::to_string(&err.reply()).unwrap(),
            r#"{"reason":"writer_error"}"#
        );
        assert_eq!(Error::InvalidToken.reason(), "invalid_token");
        assert_eq!(
            Error::AlreadyRegistered("0".into()).reason(),
            "already_registered"
        );
        assert_eq!(Error::Disallowed("0".into()).reason(), "disallowed");
    }

    #[test]
    fn entry_error_round_trip() {
        for e in [
            EntryError::TooLarge,
            EntryError::NotAccepted,
            EntryError::TooManyFiles,
            EntryError::ExternalClientFailure,
            EntryError::Custom("virus".into()),
        ] {
            let json = serde_json::to_string(&e).unwrap();
            assert_eq!(json, format!("\"{}\"", e.reason()));
            let back: EntryError = serde_json::from_str(&json).unwrap();
            assert_eq!(back, e);
        }
    }
}
