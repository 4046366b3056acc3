//! Upload storage over real sockets: a storage written outside the framework
//! (`/upload/checksum`), the endpoint-wide default storage, cancel and storage failures with a
//! memory storage, and a slow storage that holds up nothing but its own upload.

mod support;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use liveview_core::upload::{BoxFuture, MemoryStorage, StorageWriter, Stored, UploadStorage};
use liveview_core::{
    html, Endpoint, LiveView, Meta, Params, Rendered, Router, Session, Socket, UploadEntry,
    UploadOptions, ViewResult,
};
use serde::Deserialize;
use serde_json::json;
use support::upload::{client_entry, join_upload, preflight, send_chunk, upload_ref};
use support::{assert_server_works, start, start_endpoint, Joined};

/// Uploads `content` as entry `entry_ref` in chunks of `chunk_size`, then reports progress
/// 100 (as the client does after the last chunk's reply).
async fn upload(joined: &mut Joined, upload: &str, entry_ref: &str, name: &str, content: &[u8]) {
    let response = preflight(
        joined,
        upload,
        &[client_entry(entry_ref, name, content.len())],
    )
    .await;
    let token = response["entries"][entry_ref]
        .as_str()
        .unwrap_or_else(|| panic!("a token: {response}"))
        .to_owned();
    let (join_ref, reply) = join_upload(joined, entry_ref, &token).await;
    assert_eq!(reply[4], json!({"status": "ok", "response": {}}));
    for chunk in content.chunks(16_000) {
        let msg_ref = send_chunk(joined, &join_ref, entry_ref, chunk).await;
        let reply = joined.client.recv().await;
        assert_eq!(reply[1], json!(msg_ref));
        assert_eq!(reply[4], json!({"status": "ok", "response": {}}));
    }
    let msg_ref = joined
        .push(
            "progress",
            json!({"event": null, "ref": upload, "entry_ref": entry_ref, "progress": 100}),
        )
        .await;
    joined.reply_to(&msg_ref).await;
}

#[tokio::test]
async fn a_storage_of_the_applications_own_stores_files_by_checksum() {
    let address = start().await;
    let mut joined = Joined::open(address, "/upload/checksum").await;
    let upload_ref = upload_ref(&joined.reply);
    // Unique contents per run, so that "new" and "already stored" are this test's own.
    let content: Vec<u8> = format!("checksum test {:?} ", std::time::SystemTime::now())
        .into_bytes()
        .into_iter()
        .cycle()
        .take(40_000)
        .collect();
    let sha256 = {
        use sha2::Digest;
        let digest = sha2::Sha256::digest(&content);
        digest
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    };
    let store = examples::checksum::ContentAddressed::new(
        std::env::temp_dir().join("liveview-examples-checksum"),
        100,
    );

    upload(&mut joined, &upload_ref, "0", "first.txt", &content).await;
    let saved = joined
        .event(json!({"type": "form", "event": "save", "value": "", "meta": {}}))
        .await
        .to_string();
    assert!(saved.contains(&sha256), "the checksum is shown: {saved}");
    assert!(saved.contains("first.txt"), "{saved}");
    assert!(!saved.contains("already stored"), "{saved}");
    assert_eq!(std::fs::read(store.blob_path(&sha256)).unwrap(), content);

    // The same contents under another name: stored once.
    upload(&mut joined, &upload_ref, "1", "again.txt", &content).await;
    let saved = joined
        .event(json!({"type": "form", "event": "save", "value": "", "meta": {}}))
        .await
        .to_string();
    assert!(saved.contains("again.txt"), "{saved}");
    assert!(
        saved.contains("already stored: no new copy"),
        "the duplicate is said in words: {saved}"
    );
    assert_eq!(
        std::fs::read_dir(store.dir().join("incoming"))
            .unwrap()
            .count(),
        0,
        "nothing is left half-stored"
    );
    assert_server_works(address).await;
}

/// A view with one upload config ("files") of the given options: it lists each entry's
/// ref, progress and errors, and on `save` what `consume_uploaded_entries` handed it.
struct Uploader {
    options: UploadOptions,
}

#[derive(Default)]
struct Consumed(Vec<String>);

#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case")]
enum UploadEvent {
    Validate,
    Save,
    Cancel { r#ref: String },
}

impl LiveView for Uploader {
    type State = Consumed;
    type Event = UploadEvent;
    type Info = ();

    async fn mount(&self, socket: &mut Socket<Self>, _: &Params, _: &Session) -> ViewResult {
        socket.allow_upload("files", self.options.clone())?;
        Ok(())
    }

    async fn handle_event(&self, socket: &mut Socket<Self>, event: UploadEvent) -> ViewResult {
        match event {
            UploadEvent::Validate => {}
            UploadEvent::Cancel { r#ref } => socket.cancel_upload("files", &r#ref)?,
            UploadEvent::Save => {
                let consumed = socket.consume_uploaded_entries("files", |stored, entry| {
                    let what = match &stored {
                        Stored::Memory(bytes) => {
                            format!("memory:{}", String::from_utf8_lossy(bytes))
                        }
                        Stored::File(file) => format!("file:{}", file.path().display()),
                        other => format!("{other:?}"),
                    };
                    format!("{}={what}", entry.client_name)
                })?;
                socket.assign(|state| state.0.extend(consumed));
            }
        }
        Ok(())
    }

    fn render(&self, state: &Consumed, meta: &Meta<'_>) -> Rendered {
        let entries = meta
            .uploads
            .get("files")
            .map(|c| c.entries())
            .unwrap_or_default();
        html! {
            (meta.uploads.file_input("files"))
            ul {
                @for entry in entries {
                    li { (&entry.entry_ref) " " (entry.progress) @for error in &entry.errors { " " (error.reason()) } }
                }
            }
            ol { @for consumed in &state.0 { li { (consumed) } } }
        }
    }
}

async fn start_uploader(options: UploadOptions, storage: Option<MemoryStorage>) -> SocketAddr {
    let router = Router::new()
        .live("/", Uploader { options })
        .live("/counter", examples::counter::Counter);
    let builder = Endpoint::builder(router).random_secret_key();
    let builder = match storage {
        Some(storage) => builder.upload_storage(storage),
        None => builder,
    };
    start_endpoint(builder.build().unwrap()).await
}

#[tokio::test]
async fn the_endpoints_storage_takes_uploads_whose_config_names_none() {
    let memory = MemoryStorage::default();
    let address = start_uploader(UploadOptions::new().max_entries(2), Some(memory.clone())).await;
    let mut joined = Joined::open(address, "/").await;
    let upload_ref = upload_ref(&joined.reply);
    upload(&mut joined, &upload_ref, "0", "a.txt", b"kept in memory").await;
    let saved = joined
        .event(json!({"type": "form", "event": "save", "value": "", "meta": {}}))
        .await
        .to_string();
    assert!(saved.contains("a.txt=memory:kept in memory"), "{saved}");
    assert_eq!((memory.open_writers(), memory.buffered_bytes()), (0, 0));
    assert_server_works(address).await;
}

#[tokio::test]
async fn cancelling_an_upload_drops_its_stored_bytes_before_the_reply() {
    let memory = MemoryStorage::default();
    let address = start_uploader(UploadOptions::new().storage(memory.clone()), None).await;
    let mut joined = Joined::open(address, "/").await;
    let upload_ref = upload_ref(&joined.reply);
    let response = preflight(
        &mut joined,
        &upload_ref,
        &[client_entry("0", "a.txt", 10_000)],
    )
    .await;
    let token = response["entries"]["0"].as_str().unwrap().to_owned();
    let (join_ref, _) = join_upload(&mut joined, "0", &token).await;
    send_chunk(&mut joined, &join_ref, "0", &[7; 4_000]).await;
    joined.client.recv().await;
    assert_eq!((memory.open_writers(), memory.buffered_bytes()), (1, 4_000));

    joined
        .event(support::click("cancel", json!({"ref": "0"})))
        .await;
    assert_eq!(
        (memory.open_writers(), memory.buffered_bytes()),
        (0, 0),
        "gone when the cancel is answered"
    );
    let msg_ref = send_chunk(&mut joined, &join_ref, "0", &[7; 10]).await;
    let reply = joined.client.recv().await;
    assert_eq!(reply[1], json!(msg_ref));
    assert_eq!(
        reply[4],
        json!({"status": "error", "response": {"reason": "disallowed"}}),
        "later chunks are refused"
    );
    assert_server_works(address).await;
}

#[tokio::test]
async fn a_failing_storage_answers_writer_error_and_marks_the_entry() {
    // At most 3,000 bytes held: the second chunk of 2,000 fails.
    let memory = MemoryStorage::with_limit(3_000);
    let address = start_uploader(UploadOptions::new().storage(memory.clone()), None).await;
    let mut joined = Joined::open(address, "/").await;
    let upload_ref = upload_ref(&joined.reply);
    let response = preflight(
        &mut joined,
        &upload_ref,
        &[client_entry("0", "a.txt", 5_000)],
    )
    .await;
    let token = response["entries"]["0"].as_str().unwrap().to_owned();
    let (join_ref, _) = join_upload(&mut joined, "0", &token).await;
    send_chunk(&mut joined, &join_ref, "0", &[1; 2_000]).await;
    assert_eq!(joined.client.recv().await[4]["status"], json!("ok"));
    let msg_ref = send_chunk(&mut joined, &join_ref, "0", &[1; 2_000]).await;

    // The chunk's error reply, and a diff that marks the entry (in either order).
    let (mut refused, mut marked) = (false, false);
    while !(refused && marked) {
        let frame = joined.client.recv().await;
        if frame[1] == json!(msg_ref) {
            assert_eq!(
                frame[4],
                json!({"status": "error", "response": {"reason": "writer_error"}})
            );
            refused = true;
        } else {
            assert_eq!(frame[3], json!("diff"), "{frame}");
            assert!(frame.to_string().contains("writer_failure"), "{frame}");
            marked = true;
        }
    }
    assert_eq!((memory.open_writers(), memory.buffered_bytes()), (0, 0));
    // The entry stays, with its error, until it is cancelled (the 1.2 client's contract).
    let response = joined
        .event(support::click("cancel", json!({"ref": "0"})))
        .await;
    assert!(
        !response.to_string().contains("writer_failure"),
        "{response}"
    );
    assert_server_works(address).await;
}

/// A memory storage whose writes each wait for a permit of `gate`.
#[derive(Debug, Clone)]
struct Gated {
    gate: Arc<tokio::sync::Semaphore>,
    inner: MemoryStorage,
}

struct GatedWriter {
    gate: Arc<tokio::sync::Semaphore>,
    inner: Box<dyn StorageWriter>,
}

impl UploadStorage for Gated {
    fn open<'a>(
        &'a self,
        entry: &'a UploadEntry,
    ) -> BoxFuture<'a, std::io::Result<Box<dyn StorageWriter>>> {
        Box::pin(async move {
            let inner = self.inner.open(entry).await?;
            Ok(Box::new(GatedWriter {
                gate: self.gate.clone(),
                inner,
            }) as Box<dyn StorageWriter>)
        })
    }
}

impl StorageWriter for GatedWriter {
    fn write(&mut self, chunk: Bytes) -> BoxFuture<'_, std::io::Result<()>> {
        Box::pin(async move {
            self.gate.acquire().await.unwrap().forget();
            self.inner.write(chunk).await
        })
    }
    fn finish(self: Box<Self>) -> BoxFuture<'static, std::io::Result<Stored>> {
        self.inner.finish()
    }
    fn abort(self: Box<Self>) -> BoxFuture<'static, ()> {
        self.inner.abort()
    }
}

#[tokio::test]
async fn a_slow_storage_holds_up_only_its_own_upload() {
    let gate = Arc::new(tokio::sync::Semaphore::new(0));
    let storage = Gated {
        gate: gate.clone(),
        inner: MemoryStorage::default(),
    };
    let address = start_uploader(UploadOptions::new().storage(storage), None).await;
    let mut joined = Joined::open(address, "/").await;
    let upload_ref = upload_ref(&joined.reply);
    let response = preflight(&mut joined, &upload_ref, &[client_entry("0", "a.txt", 6)]).await;
    let token = response["entries"]["0"].as_str().unwrap().to_owned();
    let (join_ref, _) = join_upload(&mut joined, "0", &token).await;
    let chunk_ref = send_chunk(&mut joined, &join_ref, "0", b"abc").await;

    // The write waits at the gate; the socket and the view go on.
    let heartbeat = joined
        .client
        .push(None, "phoenix", "heartbeat", json!({}))
        .await;
    let reply = joined.client.recv().await;
    assert_eq!(reply[1], json!(heartbeat), "the socket is read: {reply}");
    let progress = joined
        .push(
            "progress",
            json!({"event": null, "ref": upload_ref, "entry_ref": "0", "progress": 50}),
        )
        .await;
    let response = joined.reply_to(&progress).await;
    assert!(
        response.to_string().contains("50"),
        "the view answers: {response}"
    );
    assert!(
        joined
            .client
            .try_recv(Duration::from_millis(200))
            .await
            .is_none(),
        "the chunk is not answered before it is stored"
    );

    gate.add_permits(1);
    let reply = joined.client.recv().await;
    assert_eq!(reply[1], json!(chunk_ref));
    assert_eq!(reply[4], json!({"status": "ok", "response": {}}));
    assert_server_works(address).await;
}
