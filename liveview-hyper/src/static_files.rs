//! Static files: asset directories served under a URL prefix, with `ETag`, `Cache-Control`
//! and conditional GET (`If-None-Match` → `304 Not Modified`).

use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{HeaderMap, HeaderValue, CACHE_CONTROL, CONTENT_TYPE, ETAG, IF_NONE_MATCH};
use hyper::{Response, StatusCode};

/// A directory served under a URL prefix.
#[derive(Debug, Clone)]
pub(crate) struct StaticDir {
    /// `/assets/`: starts and ends with `/`.
    pub(crate) prefix: String,
    pub(crate) dir: PathBuf,
}

/// The file of `path` in one of `dirs`, or `None` when no prefix matches.
pub(crate) async fn serve(
    dirs: &[StaticDir],
    path: &str,
    headers: &HeaderMap,
    cache_control: &HeaderValue,
) -> Option<Response<Full<Bytes>>> {
    let (dir, file) = dirs
        .iter()
        .find_map(|dir| Some((dir, path.strip_prefix(dir.prefix.as_str())?)))?;
    Some(file_response(&dir.dir, file, headers, cache_control).await)
}

/// The weak validator of a file: its length and modification time (as Apache and nginx do),
/// so a `304` needs no read of the file.
fn etag(metadata: &std::fs::Metadata) -> String {
    let modified = metadata
        .modified()
        .ok()
        .and_then(|time| time.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |since| since.as_nanos());
    format!("W/\"{:x}-{:x}\"", metadata.len(), modified)
}

/// Whether `If-None-Match` names `etag` (or is `*`).
fn not_modified(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get_all(IF_NONE_MATCH)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(str::trim)
        // Weak comparison (RFC 9110 §13.1.2): `W/` prefixes do not count.
        .any(|tag| tag == "*" || tag.trim_start_matches("W/") == etag.trim_start_matches("W/"))
}

async fn file_response(
    dir: &Path,
    file: &str,
    headers: &HeaderMap,
    cache_control: &HeaderValue,
) -> Response<Full<Bytes>> {
    if file.is_empty()
        || file
            .split('/')
            .any(|part| part.is_empty() || part == ".." || part == "." || part.contains('\\'))
    {
        return not_found();
    }
    let path = dir.join(file);
    let Ok(metadata) = tokio::fs::metadata(&path).await else {
        return not_found();
    };
    if !metadata.is_file() {
        return not_found();
    }
    let tag = etag(&metadata);
    let tag_value = HeaderValue::from_str(&tag).expect("an etag is header-safe");
    if not_modified(headers, &tag) {
        let mut response = Response::new(Full::new(Bytes::new()));
        *response.status_mut() = StatusCode::NOT_MODIFIED;
        response.headers_mut().insert(ETAG, tag_value);
        response
            .headers_mut()
            .insert(CACHE_CONTROL, cache_control.clone());
        return response;
    }
    let Ok(bytes) = tokio::fs::read(&path).await else {
        return not_found();
    };
    let mut response = Response::new(Full::new(Bytes::from(bytes)));
    let mime = mime_guess::from_path(file).first_or_octet_stream();
    let content_type = match (mime.type_(), mime.get_param(mime_guess::mime::CHARSET)) {
        // Text without a declared charset is served as UTF-8 (the bundle, styles).
        (mime_guess::mime::TEXT, None) => format!("{mime}; charset=utf-8"),
        _ => mime.to_string(),
    };
    let response_headers = response.headers_mut();
    if let Ok(content_type) = HeaderValue::from_str(&content_type) {
        response_headers.insert(CONTENT_TYPE, content_type);
    }
    response_headers.insert(ETAG, tag_value);
    response_headers.insert(CACHE_CONTROL, cache_control.clone());
    response
}

fn not_found() -> Response<Full<Bytes>> {
    crate::service::text(StatusCode::NOT_FOUND, "not found")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn etag_and_conditional_get() {
        let dir = std::env::temp_dir().join(format!("lv-static-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("app.js"), "console.log(1)").unwrap();
        let dirs = [StaticDir {
            prefix: "/assets/".into(),
            dir: dir.clone(),
        }];
        let cache = HeaderValue::from_static("no-cache");
        let none = HeaderMap::new();
        let first = serve(&dirs, "/assets/app.js", &none, &cache).await.unwrap();
        assert_eq!(first.status(), StatusCode::OK);
        assert_eq!(first.headers()[CACHE_CONTROL], "no-cache");
        let tag = first.headers()[ETAG].clone();
        let mut conditional = HeaderMap::new();
        conditional.insert(IF_NONE_MATCH, tag.clone());
        let second = serve(&dirs, "/assets/app.js", &conditional, &cache)
            .await
            .unwrap();
        assert_eq!(second.status(), StatusCode::NOT_MODIFIED);
        assert_eq!(second.headers()[ETAG], tag);
        conditional.insert(IF_NONE_MATCH, HeaderValue::from_static("W/\"other\""));
        let stale = serve(&dirs, "/assets/app.js", &conditional, &cache)
            .await
            .unwrap();
        assert_eq!(stale.status(), StatusCode::OK);
        let missing = serve(&dirs, "/assets/../x", &none, &cache).await.unwrap();
        assert_eq!(missing.status(), StatusCode::NOT_FOUND);
        assert!(serve(&dirs, "/other/app.js", &none, &cache).await.is_none());
        std::fs::remove_dir_all(dir).unwrap();
    }
}
