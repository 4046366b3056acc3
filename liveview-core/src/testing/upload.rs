//! Files uploaded through the real upload protocol: selection (the form's change event with
//! `uploads`), preflight (`allow_upload`), one `lvu:` channel per file, binary chunks, and
//! `progress` after each. Phoenix: `file_input/4` and `render_upload/3`.

use scraper::Html;
use serde_json::{json, Value};

use super::dom;
use super::view::LiveViewTest;
use super::TestError;

/// A file to upload: name, MIME type and content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestFile {
    /// The file's name, as the browser reports it.
    pub name: String,
    /// Its MIME type (`""` when unknown).
    pub mime: String,
    /// Its bytes.
    pub content: Vec<u8>,
}

impl TestFile {
    /// A file named `name` of type `mime` holding `content`.
    pub fn new(name: &str, mime: &str, content: impl Into<Vec<u8>>) -> Self {
        TestFile {
            name: name.to_owned(),
            mime: mime.to_owned(),
            content: content.into(),
        }
    }
}

/// Files selected on a live file input and preflighted, being uploaded chunk by chunk; see
/// [`LiveViewTest::upload`].
#[derive(Debug)]
pub struct Upload {
    upload_ref: String,
    cid: Option<u64>,
    progress_event: Option<String>,
    chunk_size: usize,
    entries: Vec<Entry>,
}

#[derive(Debug)]
struct Entry {
    file: TestFile,
    entry_ref: String,
    /// The upload token (absent when the server refused the entry).
    token: Option<String>,
    /// For an external upload: what the server gave the client's uploader.
    external: Option<Value>,
    /// Errors the preflight named for this entry.
    errors: Vec<String>,
    join_ref: Option<String>,
    sent: usize,
    progress: u8,
}

impl Upload {
    /// For an external upload (`UploadOptions::external`): the metadata the server gave the
    /// client's uploader for `file_name` (e.g. a presigned URL). The test sends the bytes
    /// there itself, then reports progress with [`LiveViewTest::render_upload`].
    pub fn external(&self, file_name: &str) -> Option<&Value> {
        self.entries
            .iter()
            .find(|e| e.file.name == file_name)
            .and_then(|e| e.external.as_ref())
    }

    /// The errors the preflight gave for `file_name` (e.g. `too_large`, `not_accepted`).
    pub fn errors(&self, file_name: &str) -> Vec<String> {
        self.entries
            .iter()
            .find(|e| e.file.name == file_name)
            .map(|e| e.errors.clone())
            .unwrap_or_default()
    }
}

impl LiveViewTest {
    /// Selects `files` on the live file input of upload `name` inside the form `form_css`
    /// (the form's `phx-change` with the files' descriptions, as the client sends it), then
    /// preflights them (`allow_upload`). Entries the server refuses keep their errors
    /// ([`Upload::errors`]); the rest can be sent with [`LiveViewTest::render_upload`].
    /// Phoenix: `file_input(view, form, name, entries)`.
    pub async fn upload(
        &mut self,
        form_css: &str,
        name: &str,
        files: Vec<TestFile>,
    ) -> Result<Upload, TestError> {
        let (upload_ref, change, progress_event, cid) = {
            let html = Html::parse_fragment(self.html());
            let forms = dom::matching(&html, form_css, None)?;
            let [form] = forms.as_slice() else {
                return Err(self.selector_error(form_css, None, forms.len()));
            };
            let input_css = format!("input[type=file][name=\"{name}\"]");
            let inputs: Vec<_> = form.select(&dom::selector(&input_css)?).collect();
            let [input] = inputs.as_slice() else {
                return Err(self.selector_error(
                    &format!("{form_css} {input_css}"),
                    None,
                    inputs.len(),
                ));
            };
            let upload_ref = input
                .value()
                .attr("data-phx-upload-ref")
                .ok_or_else(|| {
                    TestError::Usage(format!(
                        "{input_css} is not a live file input (no data-phx-upload-ref)"
                    ))
                })?
                .to_owned();
            let change = form.value().attr("phx-change").map(str::to_owned);
            let progress = form.value().attr("phx-progress").map(str::to_owned);
            let cid = dom::component_of(*input);
            (upload_ref, change, progress, cid)
        };
        let entries: Vec<Entry> = files
            .into_iter()
            .enumerate()
            .map(|(index, file)| Entry {
                file,
                entry_ref: index.to_string(),
                token: None,
                external: None,
                errors: Vec::new(),
                join_ref: None,
                sent: 0,
                progress: 0,
            })
            .collect();
        let described: Vec<Value> = entries
            .iter()
            .map(|e| {
                json!({"path": name, "ref": e.entry_ref, "last_modified": 1_700_000_000_000u64,
                       "name": e.file.name, "relative_path": "", "type": e.file.mime, "size": e.file.content.len()})
            })
            .collect();
        let with_cid = |mut payload: Value| {
            if let Some(cid) = cid {
                payload["cid"] = json!(cid);
            }
            payload
        };
        if let Some(event) = change {
            let payload = json!({"type": "form", "event": event, "value": "", "meta": {"_target": name},
                                 "uploads": {upload_ref.clone(): described.clone()}});
            self.request("event", with_cid(payload)).await?;
        }
        let response = self
            .request(
                "allow_upload",
                with_cid(json!({"ref": upload_ref, "entries": described})),
            )
            .await?;
        let mut upload = Upload {
            upload_ref,
            cid,
            progress_event,
            chunk_size: response
                .pointer("/config/chunk_size")
                .and_then(Value::as_u64)
                .unwrap_or(64_000) as usize,
            entries,
        };
        for entry in &mut upload.entries {
            match response.pointer(&format!("/entries/{}", entry.entry_ref)) {
                Some(Value::String(token)) => entry.token = Some(token.clone()),
                Some(meta @ Value::Object(_)) => entry.external = Some(meta.clone()),
                _ => {}
            }
            if let Some(Value::Array(errors)) =
                response.pointer(&format!("/errors/{}", entry.entry_ref))
            {
                entry.errors = errors
                    .iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect();
            }
        }
        if let Some(Value::Array(failed)) = response.get("error") {
            for pair in failed {
                let (Some(entry_ref), Some(reason)) = (
                    pair.get(0).and_then(Value::as_str),
                    pair.get(1).and_then(Value::as_str),
                ) else {
                    continue;
                };
                for entry in &mut upload.entries {
                    if entry.entry_ref == entry_ref || entry_ref == upload.upload_ref {
                        entry.errors.push(reason.to_owned());
                        entry.token = None;
                        entry.external = None;
                    }
                }
            }
        }
        Ok(upload)
    }

    /// Uploads `file_name` of `upload` up to `percent` (0–100) of its bytes: joins its `lvu:`
    /// channel the first time, sends the chunks (at most the server's chunk size each, each
    /// waiting for its reply), then reports `progress` on the view's channel, as the client
    /// does. Returns the view's HTML after. Phoenix: `render_upload(upload, name, percent)`.
    pub async fn render_upload(
        &mut self,
        upload: &mut Upload,
        file_name: &str,
        percent: u8,
    ) -> Result<String, TestError> {
        let percent = percent.min(100);
        let index = upload
            .entries
            .iter()
            .position(|e| e.file.name == file_name)
            .ok_or_else(|| TestError::Usage(format!("no file named {file_name:?} was selected")))?;
        let entry = &upload.entries[index];
        if entry.external.is_some() {
            // The client's own uploader sent the bytes; it reports progress only.
            return self.report_progress(upload, index, percent).await;
        }
        let Some(token) = entry.token.clone() else {
            return Err(TestError::Refused {
                what: format!("the upload of {file_name}"),
                reason: entry.errors.join(", "),
            });
        };
        let topic = format!("lvu:{}", entry.entry_ref);
        if entry.join_ref.is_none() {
            let mut channel = self.channel().lock().await;
            let join_ref = channel.next_ref();
            channel
                .push_as(
                    &join_ref,
                    &join_ref,
                    &topic,
                    "phx_join",
                    json!({"token": token}),
                )
                .await?;
            drop(channel);
            self.upload_reply(&topic, &join_ref).await?;
            upload.entries[index].join_ref = Some(join_ref);
        }
        let entry = &upload.entries[index];
        let join_ref = entry.join_ref.clone().unwrap_or_default();
        let total = entry.file.content.len();
        let goal = total * usize::from(percent) / 100;
        let mut sent = entry.sent;
        while sent < goal {
            let end = (sent + upload.chunk_size).min(goal);
            let chunk = upload.entries[index].file.content[sent..end].to_vec();
            let msg_ref = self
                .channel()
                .lock()
                .await
                .push_binary(&join_ref, &topic, "chunk", &chunk)
                .await?;
            self.upload_reply(&topic, &msg_ref).await?;
            sent = end;
        }
        upload.entries[index].sent = sent;
        let progress = (sent * 100).checked_div(total).map_or(100, |p| p as u8);
        self.report_progress(upload, index, progress).await
    }

    /// Sends `progress` for entry `index` when it grew, as the client does.
    async fn report_progress(
        &mut self,
        upload: &mut Upload,
        index: usize,
        progress: u8,
    ) -> Result<String, TestError> {
        let entry = &mut upload.entries[index];
        if progress > entry.progress {
            entry.progress = progress;
            let mut payload = json!({"event": upload.progress_event, "ref": upload.upload_ref,
                                     "entry_ref": entry.entry_ref, "progress": progress});
            if let Some(cid) = upload.cid {
                payload["cid"] = json!(cid);
            }
            self.request("progress", payload).await?;
        }
        Ok(self.html().to_owned())
    }

    /// Waits for the reply to `msg_ref` on an upload channel (the view's own pushes that come
    /// meanwhile stay queued for it, in order).
    async fn upload_reply(&mut self, topic: &str, msg_ref: &str) -> Result<Value, TestError> {
        loop {
            let frame = self.recv_topic(topic).await?;
            if frame.event != "phx_reply" || frame.msg_ref.as_deref() != Some(msg_ref) {
                continue;
            }
            let response = frame
                .payload
                .get("response")
                .cloned()
                .unwrap_or(Value::Null);
            return match frame.payload.get("status").and_then(Value::as_str) {
                Some("ok") => Ok(response),
                _ => Err(TestError::Refused {
                    what: format!("{topic} message {msg_ref}"),
                    reason: response
                        .get("reason")
                        .and_then(Value::as_str)
                        .unwrap_or("error")
                        .to_owned(),
                }),
            };
        }
    }
}
