//! Operations on an `UploadConfig`, end to end with real temp files.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use liveview_upload::{
    ClientEntry, EntryError, EntryTokens, Error, PreflightReply, ProgressUpdate, TempFileStorage,
    UploadConfig, UploadEntry, UploadOptions, UploadTokenPayload,
};
use serde_json::json;

/// Test signer: "t:" + payload (no secrecy, only the shape matters here).
struct Signer;
impl EntryTokens for Signer {
    fn sign(&self, payload: &[u8]) -> String {
        format!("t:{}", String::from_utf8(payload.to_vec()).unwrap())
    }
    fn verify(&self, token: &str) -> Option<Vec<u8>> {
        token.strip_prefix("t:").map(|s| s.as_bytes().to_vec())
    }
}

fn entry(r: &str, name: &str, ty: &str, size: u64) -> ClientEntry {
    ClientEntry::new(r, name, ty, size)
}

fn config(opts: UploadOptions) -> (UploadConfig, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let c = UploadConfig::with_ref("avatar", "phx-F1", opts.temp_dir(dir.path())).unwrap();
    (c, dir)
}

fn errs(c: &UploadConfig) -> Vec<(String, String)> {
    c.errors()
        .into_iter()
        .map(|(r, e)| (r, e.reason().to_owned()))
        .collect()
}

/// Preflights, uploads `data` for `r` and reports progress 100.
async fn upload(c: &mut UploadConfig, r: &str, data: &[u8]) {
    let e = c.entry(r).unwrap().clone();
    let ce = entry(r, &e.client_name, &e.client_type, e.client_size);
    assert!(c.preflight(&[ce], &Signer, "phx-view", None).await.is_ok());
    let mut w = c.register_upload(r, None).unwrap().open().await.unwrap();
    for chunk in data.chunks(3) {
        w.write_chunk(Bytes::copy_from_slice(chunk)).await.unwrap();
    }
    c.attach(r, w.finish().await.unwrap()).unwrap();
    c.update_progress(r, 100).unwrap();
    assert!(c.entry(r).unwrap().done);
}

#[test]
fn new_config_has_random_ref() {
    let a = UploadConfig::new("avatar", UploadOptions::new()).unwrap();
    let b = UploadConfig::new("avatar", UploadOptions::new()).unwrap();
    assert!(a.upload_ref().starts_with("phx-"));
    assert_ne!(a.upload_ref(), b.upload_ref());
    assert_eq!(a.name(), "avatar");
    assert!(UploadConfig::new("x", UploadOptions::new().accept(["bogus"])).is_err());
}

#[test]
fn put_entries_registers_and_validates() {
    let (mut c, _d) = config(
        UploadOptions::new()
            .accept([".jpg", "image/png", "video/*"])
            .max_entries(10)
            .max_file_size(100),
    );
    c.put_entries(&[
        entry("0", "a.jpg", "", 10),
        entry("1", "b.gif", "image/gif", 10),
        entry("2", "c.png", "image/png", 101),
        entry("3", "d.bin", "video/mp4", 100),
        entry("4", "e.PNG", "image/png", 0),
        entry("4", "dup", "", 1),
    ]);
    assert_eq!(c.active_refs(), ["0", "1", "2", "3", "4"]);
    assert_eq!(c.entry_errors("1"), [EntryError::NotAccepted]);
    assert_eq!(c.entry_errors("2"), [EntryError::TooLarge]);
    assert!(c.entry("0").unwrap().valid);
    assert!(!c.entry("1").unwrap().valid);
    assert_eq!(c.error_refs(), ["1", "2"]);
    // known refs are left alone
    c.put_entries(&[entry("0", "other.gif", "image/gif", 1)]);
    assert_eq!(c.entry("0").unwrap().client_name, "a.jpg");
    assert_eq!(c.entries().len(), 5);
    assert!(c.config_errors().is_empty());
}

#[test]
fn too_many_files_is_a_config_error() {
    let (mut c, _d) = config(UploadOptions::new().max_entries(2));
    c.put_entries(&[entry("0", "a", "", 1), entry("1", "b", "", 1)]);
    assert!(!c.has_errors());
    c.put_entries(&[entry("2", "c", "", 1)]);
    assert_eq!(c.config_errors(), [EntryError::TooManyFiles]);
    assert_eq!(
        errs(&c),
        [("phx-F1".to_string(), "too_many_files".to_string())]
    );
    assert_eq!(c.error_refs(), ["phx-F1"]);
    // not duplicated
    c.put_entries(&[entry("3", "d", "", 1)]);
    assert_eq!(c.config_errors().len(), 1);
    c.cancel("3").unwrap();
    assert!(c.has_errors());
    c.cancel("2").unwrap();
    assert!(!c.has_errors(), "cancelling back to max_entries clears it");
}

#[test]
fn single_entry_selection_replaces() {
    let (mut c, _d) = config(UploadOptions::new());
    assert!(c.put_entries(&[entry("0", "a", "", 1)]).is_empty());
    let replaced = c.put_entries(&[entry("1", "b", "", 1)]);
    assert_eq!(replaced.len(), 1);
    assert_eq!(replaced[0].entry_ref, "0");
    assert!(replaced[0].cancelled);
    assert_eq!(c.active_refs(), ["1"]);
    assert!(!c.has_errors());
    // two new entries at once are not a replacement: too many files
    c.put_entries(&[entry("2", "c", "", 1), entry("3", "d", "", 1)]);
    assert_eq!(c.active_refs(), ["1", "2", "3"]);
    assert_eq!(c.config_errors(), [EntryError::TooManyFiles]);
}

#[tokio::test]
async fn preflight_ok_reply_shape() {
    let (mut c, _d) = config(UploadOptions::new().auto_upload(true));
    let sel = [entry("0", "a.txt", "text/plain", 12)];
    c.put_entries(&sel);
    let reply = c.preflight(&sel, &Signer, "phx-view", Some(4)).await;
    let json = serde_json::to_value(&reply).unwrap();
    let token = json["entries"]["0"].as_str().unwrap().to_owned();
    assert_eq!(
        json,
        json!({
            "ref": "phx-F1",
            "config": {"chunk_size": 64000, "chunk_timeout": 10000, "max_entries": 1, "max_file_size": 8000000},
            "entries": {"0": token},
            "errors": {}
        })
    );
    let payload = UploadTokenPayload::verify_for(&Signer, &token, "phx-view", "0").unwrap();
    assert_eq!(payload.config_ref, "phx-F1");
    assert_eq!(payload.cid, Some(4));
    assert_eq!(c.preflighted_refs(), ["0"]);
    assert!(reply.to_json().contains_key("config"));

    // a second allow_upload does not re-issue tokens for preflighted entries
    let PreflightReply::Ok(again) = c.preflight(&sel, &Signer, "phx-view", None).await else {
        panic!("expected ok")
    };
    assert!(again.entries.is_empty());
}

#[tokio::test]
async fn preflight_registers_unknown_entries() {
    let (mut c, _d) = config(UploadOptions::new().max_entries(3));
    let sel = [entry("0", "a", "", 1), entry("1", "b", "", 1)];
    let PreflightReply::Ok(ok) = c.preflight(&sel, &Signer, "v", None).await else {
        panic!("expected ok")
    };
    assert_eq!(ok.entries.keys().collect::<Vec<_>>(), ["0", "1"]);
    assert_eq!(c.active_refs(), ["0", "1"]);
}

#[tokio::test]
async fn preflight_whole_request_error_for_non_auto() {
    let (mut c, _d) = config(UploadOptions::new().accept([".jpg"]).max_entries(2));
    let sel = [
        entry("0", "a.jpg", "image/jpeg", 1),
        entry("1", "b.txt", "text/plain", 1),
        entry("2", "c.jpg", "image/jpeg", 1),
    ];
    c.put_entries(&sel);
    let reply = c.preflight(&sel, &Signer, "v", None).await;
    assert!(!reply.is_ok());
    assert_eq!(
        serde_json::to_value(&reply).unwrap(),
        json!({"ref": "phx-F1", "error": [["1", "not_accepted"], ["phx-F1", "too_many_files"]]})
    );
    assert!(c.preflighted_refs().is_empty());
    assert!(matches!(
        c.register_upload("0", None),
        Err(Error::Disallowed(_))
    ));
}

#[tokio::test]
async fn preflight_auto_upload_reports_errors_per_entry() {
    let (mut c, _d) = config(
        UploadOptions::new()
            .accept(["image/*"])
            .max_entries(2)
            .auto_upload(true),
    );
    let sel = [
        entry("0", "a.txt", "text/plain", 1),
        entry("1", "b.png", "image/png", 1),
        entry("2", "c.png", "image/png", 1),
    ];
    c.put_entries(&sel);
    let PreflightReply::Ok(ok) = c.preflight(&sel, &Signer, "v", None).await else {
        panic!("expected ok")
    };
    // only the first max_entries entries are preflighted
    assert_eq!(ok.entries.keys().collect::<Vec<_>>(), ["1"]);
    assert_eq!(
        serde_json::to_value(&ok.errors).unwrap(),
        json!({"0": ["not_accepted"]})
    );
    assert_eq!(c.preflighted_refs(), ["0", "1"]);
    assert!(matches!(
        c.register_upload("0", None),
        Err(Error::Disallowed(_))
    ));
    assert!(matches!(
        c.register_upload("2", None),
        Err(Error::Disallowed(_))
    ));
    assert!(c.register_upload("1", None).is_ok());
}

#[tokio::test]
async fn register_upload_once() {
    let (mut c, _d) = config(UploadOptions::new());
    let sel = [entry("0", "a", "", 4)];
    assert!(matches!(
        c.register_upload("0", None),
        Err(Error::Disallowed(_))
    ));
    c.put_entries(&sel);
    assert!(
        matches!(c.register_upload("0", None), Err(Error::Disallowed(_))),
        "not preflighted"
    );
    c.preflight(&sel, &Signer, "v", None).await;
    let target = c.register_upload("0", None).unwrap();
    assert_eq!(target.entry().client_size, 4);
    assert_eq!(target.chunk_timeout().as_millis(), 10_000);
    assert!(c.entry("0").unwrap().is_registered());
    let err = c.register_upload("0", None).unwrap_err();
    assert_eq!(err.reason(), "already_registered");
    drop(target);
    c.unregister_upload("0").unwrap();
    assert!(c.register_upload("0", None).is_ok());
}

#[tokio::test]
async fn writer_enforces_max_file_size_of_config() {
    let (mut c, _d) = config(UploadOptions::new().max_file_size(5));
    let sel = [entry("0", "a", "", 5)];
    c.preflight(&sel, &Signer, "v", None).await;
    let mut w = c.register_upload("0", None).unwrap().open().await.unwrap();
    w.write_chunk(Bytes::from_static(b"1234")).await.unwrap();
    let err = w.write_chunk(Bytes::from_static(b"56")).await.unwrap_err();
    assert_eq!(
        serde_json::to_value(err.reply()).unwrap(),
        json!({"reason": "file_size_limit_exceeded", "limit": 5})
    );
}

#[tokio::test]
async fn progress_only_grows_and_done_needs_the_file() {
    let (mut c, _d) = config(UploadOptions::new());
    let sel = [entry("0", "a", "", 6)];
    c.preflight(&sel, &Signer, "v", None).await;
    c.update_progress("0", 50).unwrap();
    c.update_progress("0", 30).unwrap();
    assert_eq!(c.entry("0").unwrap().progress, 50);
    assert!(matches!(
        c.update_progress("0", 101),
        Err(Error::InvalidProgress(101))
    ));
    assert!(matches!(
        c.update_progress("9", 10),
        Err(Error::UnknownEntry(_))
    ));
    // progress 100 before the file is stored: not done yet
    c.apply_progress("0", &ProgressUpdate::Percent(100))
        .unwrap();
    assert!(!c.entry("0").unwrap().done);
    let mut w = c.register_upload("0", None).unwrap().open().await.unwrap();
    w.write_chunk(Bytes::from_static(b"abcdef")).await.unwrap();
    c.attach("0", w.finish().await.unwrap()).unwrap();
    assert!(c.entry("0").unwrap().done);
    assert_eq!(c.done_refs(), ["0"]);
    assert!(c.entry("0").unwrap().path.as_ref().unwrap().exists());
}

#[test]
fn progress_error_form() {
    let (mut c, _d) = config(UploadOptions::new());
    c.put_entries(&[entry("0", "a", "", 6)]);
    c.apply_progress(
        "0",
        &ProgressUpdate::Error {
            error: "boom".into(),
        },
    )
    .unwrap();
    assert_eq!(c.entry_errors("0"), [EntryError::ExternalClientFailure]);
    assert_eq!(c.error_refs(), ["0"]);
    assert!(!c.entry("0").unwrap().valid);
}

#[tokio::test]
async fn cancel_removes_entry_and_file() {
    let (mut c, _d) = config(UploadOptions::new().max_entries(2));
    c.put_entries(&[entry("0", "a", "", 3), entry("1", "b", "", 3)]);
    upload(&mut c, "0", b"abc").await;
    let path = c.entry("0").unwrap().path.clone().unwrap();
    assert!(path.exists());
    let removed = c.cancel("0").unwrap();
    assert!(removed.cancelled);
    assert!(removed.is_registered());
    assert!(!path.exists());
    assert_eq!(c.active_refs(), ["1"]);
    assert!(matches!(c.cancel("0"), Err(Error::UnknownEntry(_))));
    // a file arriving for a cancelled entry is refused (and deleted)
    let target = liveview_upload::UploadTarget::new(
        Arc::new(TempFileStorage::default()),
        UploadEntry::new(&entry("0", "a", "", 1), "phx-F1", "avatar"),
        10,
        Duration::from_secs(1),
    );
    let mut w = target.open().await.unwrap();
    w.write_chunk(Bytes::from_static(b"q")).await.unwrap();
    let late = w.finish().await.unwrap();
    let late_path = late.path().unwrap().to_path_buf();
    assert!(matches!(c.attach("0", late), Err(Error::UnknownEntry(_))));
    assert!(!late_path.exists());
    let all = c.cancel_all();
    assert_eq!(all.len(), 1);
    assert!(c.entries().is_empty());
}

#[tokio::test]
async fn uploaded_entries_split() {
    let (mut c, _d) = config(UploadOptions::new().max_entries(3));
    c.put_entries(&[
        entry("0", "a", "", 3),
        entry("1", "b", "", 3),
        entry("2", "c", "", 3),
    ]);
    upload(&mut c, "1", b"xyz").await;
    let (done, in_progress) = c.uploaded_entries();
    assert_eq!(
        done.iter()
            .map(|e| e.entry_ref.as_str())
            .collect::<Vec<_>>(),
        ["1"]
    );
    assert_eq!(
        in_progress
            .iter()
            .map(|e| e.entry_ref.as_str())
            .collect::<Vec<_>>(),
        ["0", "2"]
    );
}

#[tokio::test]
async fn consume_done_entries_only_and_clean_up() {
    let (mut c, dir) = config(UploadOptions::new().max_entries(3));
    c.put_entries(&[
        entry("0", "a.txt", "", 3),
        entry("1", "b.txt", "", 2),
        entry("2", "c.txt", "", 1),
    ]);
    upload(&mut c, "0", b"abc").await;
    upload(&mut c, "1", b"de").await;
    let p0 = c.entry("0").unwrap().path.clone().unwrap();
    let p1 = c.entry("1").unwrap().path.clone().unwrap();
    let keep_at = dir.path().join("kept-b.txt");

    let results: Vec<(String, Option<PathBuf>)> = c.consume(|stored, entry| {
        let file = stored.into_file().unwrap();
        if entry.entry_ref == "1" {
            let dest = file.persist(&keep_at).unwrap();
            (entry.client_name.clone(), Some(dest))
        } else {
            assert_eq!(file.read().unwrap(), b"abc");
            (entry.client_name.clone(), None)
        }
    });
    assert_eq!(
        results,
        [
            ("a.txt".to_string(), None),
            ("b.txt".to_string(), Some(keep_at.clone()))
        ]
    );
    assert!(!p0.exists(), "consumed files are deleted");
    assert!(!p1.exists(), "persisted file was moved");
    assert_eq!(std::fs::read(&keep_at).unwrap(), b"de");
    assert_eq!(c.active_refs(), ["2"], "not-done entries remain");
    assert!(c.consume(|_, _| ()).is_empty());
    assert!(matches!(
        c.consume_entry("2", |_, _| ()),
        Err(Error::Disallowed(_))
    ));
}

#[tokio::test]
async fn dropping_config_deletes_files() {
    let (mut c, _d) = config(UploadOptions::new());
    c.put_entries(&[entry("0", "a", "", 1)]);
    upload(&mut c, "0", b"z").await;
    let p = c.entry("0").unwrap().path.clone().unwrap();
    assert!(p.exists());
    drop(c);
    assert!(!p.exists());
}

#[tokio::test]
async fn render_reflects_state() {
    let (mut c, _d) = config(UploadOptions::new().max_entries(2).auto_upload(true));
    c.put_entries(&[entry("0", "a", "", 1), entry("1", "b", "", 9_000_000)]);
    let sel: Vec<_> = c
        .entries()
        .iter()
        .map(|e| entry(&e.entry_ref, &e.client_name, "", e.client_size))
        .collect();
    c.preflight(&sel, &Signer, "v", None).await;
    let mut w = c.register_upload("0", None).unwrap().open().await.unwrap();
    w.write_chunk(Bytes::from_static(b"a")).await.unwrap();
    c.attach("0", w.finish().await.unwrap()).unwrap();
    c.update_progress("0", 100).unwrap();
    let attrs = liveview_upload::live_file_input_attrs(&c);
    assert!(attrs.contains(r#"data-phx-active-refs="0,1""#), "{attrs}");
    assert!(attrs.contains(r#"data-phx-done-refs="0""#), "{attrs}");
    assert!(
        attrs.contains(r#"data-phx-preflighted-refs="0,1""#),
        "{attrs}"
    );
    assert!(attrs.contains(r#"data-phx-error-refs="1""#), "{attrs}");
    assert!(attrs.ends_with("data-phx-auto-upload multiple"), "{attrs}");
}
