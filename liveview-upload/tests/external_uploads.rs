//! External uploads: the preflight carries each entry's uploader and fields instead of a
//! channel token, progress alone completes an entry, and consume hands back the fields.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use liveview_upload::{
    BoxFuture, ClientEntry, EntryError, EntryTokens, Error, ExternalUpload, PreflightReply,
    Presigner, ProgressUpdate, Stored, UploadConfig, UploadEntry, UploadOptions,
};
use serde_json::json;

struct Signer;
impl EntryTokens for Signer {
    fn sign(&self, payload: &[u8]) -> String {
        String::from_utf8(payload.to_vec()).unwrap()
    }
    fn verify(&self, token: &str) -> Option<Vec<u8>> {
        Some(token.as_bytes().to_vec())
    }
}

fn s3(entry: &UploadEntry) -> Result<ExternalUpload, EntryError> {
    if entry.client_name.ends_with(".exe") {
        return Err(EntryError::Custom("presign_refused".into()));
    }
    let key = format!("uploads/{}", entry.client_name);
    Ok(ExternalUpload::new("S3")
        .field("url", format!("https://bucket.example/{key}?sig=abc"))
        .field("key", key))
}

fn selection(names: &[&str]) -> Vec<ClientEntry> {
    names
        .iter()
        .enumerate()
        .map(|(i, name)| ClientEntry::new(i.to_string(), *name, "image/png", 10))
        .collect()
}

fn config(options: UploadOptions) -> UploadConfig {
    UploadConfig::with_ref("photos", "phx-F1", options).unwrap()
}

#[tokio::test]
async fn the_preflight_carries_the_uploader_and_its_fields() {
    let mut photos = config(UploadOptions::new().max_entries(2).external(s3));
    assert!(photos.is_external());
    let selected = selection(&["a.png", "b.png"]);
    let reply = photos.preflight(&selected, &Signer, "view", None).await;
    assert_eq!(
        serde_json::to_value(&reply).unwrap(),
        json!({
            "ref": "phx-F1",
            "config": {"chunk_size": 64000, "chunk_timeout": 10000, "max_entries": 2, "max_file_size": 8000000},
            "entries": {
                "0": {"uploader": "S3", "url": "https://bucket.example/uploads/a.png?sig=abc", "key": "uploads/a.png"},
                "1": {"uploader": "S3", "url": "https://bucket.example/uploads/b.png?sig=abc", "key": "uploads/b.png"},
            },
            "errors": {},
        })
    );
    let PreflightReply::Ok(ok) = reply else {
        unreachable!()
    };
    assert_eq!(ok.entries["0"].token(), None);
    assert_eq!(ok.entries["0"].external().unwrap().uploader(), "S3");
    assert_eq!(photos.preflighted_refs(), ["0", "1"]);
}

#[tokio::test]
async fn progress_completes_an_external_entry_and_consume_gets_its_fields() {
    let mut photos = config(UploadOptions::new().external(s3));
    let selected = selection(&["a.png"]);
    photos.put_entries(&selected);
    photos.preflight(&selected, &Signer, "view", None).await;

    photos.update_progress("0", 40).unwrap();
    assert!(!photos.entry("0").unwrap().done);
    photos
        .apply_progress("0", &ProgressUpdate::Percent(100))
        .unwrap();
    assert!(photos.entry("0").unwrap().done);
    assert_eq!(photos.done_refs(), ["0"]);
    assert_eq!(photos.entry("0").unwrap().path, None);

    let keys = photos.consume(|stored, entry| {
        assert_eq!(entry.client_name, "a.png");
        let Stored::External(upload) = stored else {
            panic!("an external entry")
        };
        upload.get("key").unwrap().as_str().unwrap().to_owned()
    });
    assert_eq!(keys, ["uploads/a.png"]);
    assert!(photos.entries().is_empty());
}

#[tokio::test]
async fn no_channel_may_register_for_an_external_entry() {
    let mut photos = config(UploadOptions::new().external(s3));
    photos
        .preflight(&selection(&["a.png"]), &Signer, "view", None)
        .await;
    assert!(matches!(
        photos.register_upload("0", None),
        Err(Error::Disallowed(_))
    ));
}

#[tokio::test]
async fn a_presigner_error_fails_the_whole_preflight_without_auto_upload() {
    let mut photos = config(UploadOptions::new().max_entries(3).external(s3));
    let selected = selection(&["a.png", "evil.exe", "c.png"]);
    let reply = photos.preflight(&selected, &Signer, "view", None).await;
    assert_eq!(
        serde_json::to_value(&reply).unwrap(),
        json!({"ref": "phx-F1", "error": [["1", "presign_refused"]]})
    );
    assert_eq!(
        photos.entry_errors("1"),
        [EntryError::Custom("presign_refused".into())]
    );
    assert!(!photos.entry("1").unwrap().valid);
}

#[tokio::test]
async fn with_auto_upload_a_presigner_error_is_listed_and_the_rest_go_on() {
    let mut photos = config(
        UploadOptions::new()
            .max_entries(3)
            .auto_upload(true)
            .external(s3),
    );
    let selected = selection(&["a.png", "evil.exe", "c.png"]);
    let PreflightReply::Ok(ok) = photos.preflight(&selected, &Signer, "view", None).await else {
        panic!("auto uploads answer ok")
    };
    assert_eq!(ok.entries.keys().collect::<Vec<_>>(), ["0", "2"]);
    assert_eq!(
        serde_json::to_value(&ok.errors).unwrap(),
        json!({"1": ["presign_refused"]})
    );
}

#[tokio::test]
async fn a_client_failure_marks_the_entry() {
    let mut photos = config(UploadOptions::new().external(s3));
    photos
        .preflight(&selection(&["a.png"]), &Signer, "view", None)
        .await;
    photos
        .apply_progress(
            "0",
            &ProgressUpdate::Error {
                error: "403".into(),
            },
        )
        .unwrap();
    assert_eq!(
        photos.entry_errors("0"),
        [EntryError::ExternalClientFailure]
    );
    assert!(!photos.entry("0").unwrap().done);
}

/// An async presigner that counts its calls: each entry is presigned once.
struct Sessions(Arc<AtomicUsize>);

impl Presigner for Sessions {
    fn presign<'a>(
        &'a self,
        entry: &'a UploadEntry,
    ) -> BoxFuture<'a, Result<ExternalUpload, EntryError>> {
        Box::pin(async move {
            tokio::task::yield_now().await;
            let n = self.0.fetch_add(1, Ordering::SeqCst);
            Ok(ExternalUpload::new("UpChunk")
                .field("entrypoint", format!("https://videos.example/{n}"))
                .field("size", entry.client_size))
        })
    }
}

#[tokio::test]
async fn an_async_presigner_runs_once_per_entry() {
    let calls = Arc::new(AtomicUsize::new(0));
    let mut videos = config(
        UploadOptions::new()
            .max_entries(2)
            .external(Sessions(calls.clone())),
    );
    let selected = selection(&["a.mp4", "b.mp4"]);
    let PreflightReply::Ok(ok) = videos.preflight(&selected, &Signer, "view", None).await else {
        panic!("ok")
    };
    assert_eq!(
        serde_json::to_value(&ok.entries["1"]).unwrap(),
        json!({"uploader": "UpChunk", "entrypoint": "https://videos.example/1", "size": 10})
    );
    // A second allow_upload for the same entries presigns nothing again.
    let PreflightReply::Ok(again) = videos.preflight(&selected, &Signer, "view", None).await else {
        panic!("ok")
    };
    assert!(again.entries.is_empty());
    assert_eq!(calls.load(Ordering::SeqCst), 2);
}
