// External uploaders (Phoenix LiveView's `uploaders` option of LiveSocket).
//
// For an upload config made external on the server (`UploadOptions::external`), the
// preflight reply gives each entry `meta = {uploader: "<name>", ...fields}` instead of a
// channel token; the client then calls `uploaders[name](entries, onViewError)`. The uploader
// sends the files wherever the fields say and reports back through the entry:
// `entry.progress(percent)` (100 completes it on the server) or `entry.error(reason)`.

// `DemoStore`: the examples' object store (examples/src/object_store.rs), which takes a
// presigned `PUT` of the whole file, as S3 does.
function DemoStore(entries, onViewError) {
  entries.forEach((entry) => {
    const xhr = new XMLHttpRequest();
    onViewError(() => xhr.abort());
    entry.onCancel(() => xhr.abort());
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) {
        entry.progress(100);
      } else {
        entry.error(`the store answered ${xhr.status}`);
      }
    };
    xhr.onerror = () => entry.error("the store could not be reached");
    xhr.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable) {
        const percent = Math.round((event.loaded / event.total) * 100);
        // 100 is reported once the store has answered.
        if (percent < 100) {
          entry.progress(percent);
        }
      }
    });
    xhr.open("PUT", entry.meta.url, true);
    xhr.setRequestHeader("content-type", entry.file.type || "application/octet-stream");
    xhr.send(entry.file);
  });
}

export default { DemoStore };
