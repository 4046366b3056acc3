//! Which storage an entry goes to (the config's, the endpoint's, temporary files), and what
//! `consume` hands the application for each.

use std::sync::Arc;

use bytes::Bytes;
use liveview_upload::{
    ClientEntry, EntryTokens, Error, MemoryStorage, Stored, TempFileStorage, UploadConfig,
    UploadOptions, UploadStorage,
};

struct Signer;
impl EntryTokens for Signer {
    fn sign(&self, payload: &[u8]) -> String {
        String::from_utf8(payload.to_vec()).unwrap()
    }
    fn verify(&self, token: &str) -> Option<Vec<u8>> {
        Some(token.as_bytes().to_vec())
    }
}

/// A config with one preflighted entry `"0"` of `size` bytes.
async fn preflighted(options: UploadOptions, size: u64) -> UploadConfig {
    let mut config = UploadConfig::with_ref("files", "phx-F1", options).unwrap();
    let selected = [ClientEntry::new("0", "a.bin", "", size)];
    assert!(config
        .preflight(&selected, &Signer, "view", None)
        .await
        .is_ok());
    config
}

/// Registers, writes `data` in chunks of 2 bytes, attaches and reports progress 100.
async fn upload(
    config: &mut UploadConfig,
    default: Option<&Arc<dyn UploadStorage>>,
    data: &'static [u8],
) {
    let target = config.register_upload("0", default).unwrap();
    let mut writer = target.open().await.unwrap();
    for chunk in data.chunks(2) {
        writer.write_chunk(Bytes::from_static(chunk)).await.unwrap();
    }
    config.attach("0", writer.finish().await.unwrap()).unwrap();
    config.update_progress("0", 100).unwrap();
}

#[tokio::test]
async fn the_configs_storage_wins_over_the_endpoint_default() {
    let own = MemoryStorage::default();
    let default = MemoryStorage::default();
    let default_dyn: Arc<dyn UploadStorage> = Arc::new(default.clone());
    let mut config = preflighted(UploadOptions::new().storage(own.clone()), 4).await;
    let target = config.register_upload("0", Some(&default_dyn)).unwrap();
    let writer = target.open().await.unwrap();
    assert_eq!(own.open_writers(), 1, "the config's own storage is used");
    assert_eq!(default.open_writers(), 0);
    writer.abort().await;
    assert_eq!(own.open_writers(), 0);
}

#[tokio::test]
async fn without_its_own_storage_a_config_uses_the_endpoint_default() {
    let default = MemoryStorage::default();
    let default_dyn: Arc<dyn UploadStorage> = Arc::new(default.clone());
    let mut config = preflighted(UploadOptions::new(), 5).await;
    assert!(config.storage().is_none());
    upload(&mut config, Some(&default_dyn), b"hello").await;
    assert_eq!(config.done_refs(), ["0"]);
    assert_eq!(
        config.entry("0").unwrap().path,
        None,
        "memory storage keeps no file"
    );
    let consumed = config.consume(|stored, entry| {
        assert_eq!(entry.client_name, "a.bin");
        stored.bytes().cloned()
    });
    assert_eq!(consumed, [Some(Bytes::from_static(b"hello"))]);
}

#[tokio::test]
async fn without_any_storage_entries_go_to_temporary_files() {
    let mut config = preflighted(UploadOptions::new(), 3).await;
    upload(&mut config, None, b"abc").await;
    let path = config.entry("0").unwrap().path.clone().unwrap();
    assert!(path.starts_with(std::env::temp_dir()), "{}", path.display());
    let consumed = config.consume(|stored, _| match stored {
        Stored::File(file) => file.read().unwrap(),
        other => panic!("a temporary file, not {other:?}"),
    });
    assert_eq!(consumed, [b"abc".to_vec()]);
    assert!(!path.exists(), "consumed and not kept: deleted");
}

#[tokio::test]
async fn temp_dir_is_a_temp_file_storage_in_that_directory() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = preflighted(UploadOptions::new().temp_dir(dir.path()), 2).await;
    let storage = config.storage().unwrap().clone();
    assert_eq!(
        format!("{storage:?}"),
        format!("{:?}", TempFileStorage::new_in(dir.path()))
    );
    upload(&mut config, None, b"hi").await;
    let path = config.entry("0").unwrap().path.clone().unwrap();
    assert!(path.starts_with(dir.path()));
    drop(config);
    assert!(!path.exists(), "dropping the config deletes its files");
}

#[tokio::test]
async fn cancelling_a_finished_memory_entry_frees_it() {
    let storage = MemoryStorage::default();
    let mut config = preflighted(UploadOptions::new().storage(storage.clone()), 4).await;
    upload(&mut config, None, b"data").await;
    assert!(config.stored("0").unwrap().bytes().is_some());
    config.cancel("0").unwrap();
    assert!(config.stored("0").is_none());
    assert_eq!(storage.buffered_bytes(), 0);
}

#[tokio::test]
async fn a_full_memory_storage_fails_the_write() {
    let storage = MemoryStorage::with_limit(3);
    let mut config = preflighted(UploadOptions::new().storage(storage.clone()), 4).await;
    let mut writer = config
        .register_upload("0", None)
        .unwrap()
        .open()
        .await
        .unwrap();
    writer
        .write_chunk(Bytes::from_static(b"abc"))
        .await
        .unwrap();
    let error = writer
        .write_chunk(Bytes::from_static(b"d"))
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Writer(_)), "{error:?}");
    assert_eq!(error.reason(), "writer_error");
    assert_eq!(
        (storage.open_writers(), storage.buffered_bytes()),
        (0, 0),
        "the failed upload released its bytes"
    );
}
