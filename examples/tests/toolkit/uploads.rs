//! `/upload` (files through the real upload protocol: selection, preflight, chunks,
//! progress, consume), refusals in human words, cancel.

use liveview_core::testing::{live, TestError, TestFile};

use super::app;

#[tokio::test]
async fn files_upload_in_chunks_with_progress_then_are_saved() -> Result<(), TestError> {
    let app = app();
    let mut view = live(&app, "/upload").await?;
    let text = "hello, upload! ".repeat(3_000); // 45 KB: three chunks of 16 KB
    let mut upload = view
        .upload(
            "#upload-form",
            "files",
            vec![TestFile::new("notes.txt", "text/plain", text.clone())],
        )
        .await?;
    assert!(upload.errors("notes.txt").is_empty());
    assert!(view.has_element("li.entry .name", "notes.txt"));
    view.render_upload(&mut upload, "notes.txt", 50).await?;
    assert_eq!(view.text("li.entry .progress")?, "50");
    view.render_upload(&mut upload, "notes.txt", 100).await?;
    assert_eq!(view.text("li.entry .progress")?, "100");
    view.form("#upload-form").submit().await?;
    assert!(
        view.has_element("#stored li", &format!("notes.txt ({} bytes)", text.len())),
        "{}",
        view.html()
    );
    assert!(
        !view.has_element("li.entry", ""),
        "consumed entries leave the list"
    );
    Ok(())
}

#[tokio::test]
async fn refused_files_say_why_and_can_be_cancelled() -> Result<(), TestError> {
    let app = app();
    let mut view = live(&app, "/upload").await?;
    let mut upload = view
        .upload(
            "#upload-form",
            "files",
            vec![
                TestFile::new("virus.exe", "application/x-msdownload", vec![1u8; 10]),
                TestFile::new("ok.txt", "text/plain", "fine"),
            ],
        )
        .await?;
    assert!(!upload.errors("virus.exe").is_empty(), "refused by type");
    assert!(
        view.has_element("li.entry .error[data-reason]", ""),
        "{}",
        view.html()
    );
    let refused = view
        .render_upload(&mut upload, "virus.exe", 100)
        .await
        .unwrap_err();
    assert!(matches!(refused, TestError::Refused { .. }), "{refused}");
    // Cancel the refused entry: it leaves the list, the other stays.
    let entry_ref = view
        .element("li.entry")
        .with_text("virus.exe")
        .attr("data-ref")?
        .expect("entries carry their ref");
    view.element(&format!("li.entry[data-ref='{entry_ref}'] button"))
        .click()
        .await?;
    assert!(!view.has_element("li.entry", "virus.exe"));
    assert!(view.has_element("li.entry", "ok.txt"));
    Ok(())
}

#[tokio::test]
async fn too_many_files_is_a_config_error() -> Result<(), TestError> {
    let app = app();
    let mut view = live(&app, "/upload").await?;
    let files = (0..4)
        .map(|i| TestFile::new(&format!("f{i}.txt"), "text/plain", "x"))
        .collect();
    view.upload("#upload-form", "files", files).await?;
    assert!(
        view.has_element(".config-error[data-reason=too_many_files]", ""),
        "{}",
        view.html()
    );
    Ok(())
}

#[tokio::test]
async fn the_checksum_storage_stores_the_same_contents_once() -> Result<(), TestError> {
    let app = app();
    let mut view = live(&app, "/upload/checksum").await?;
    for name in ["a.txt", "copy-of-a.txt"] {
        let mut upload = view
            .upload(
                "#upload-form",
                "files",
                vec![TestFile::new(name, "text/plain", "same bytes")],
            )
            .await?;
        view.render_upload(&mut upload, name, 100).await?;
        view.form("#upload-form").submit().await?;
    }
    assert_eq!(view.count("#stored li.blob", ""), 2, "{}", view.html());
    let first = view
        .element("#stored li.blob:nth-child(1)")
        .with_text("a.txt")
        .attr("data-sha256")?;
    let second = view
        .element("#stored li.blob:nth-child(2)")
        .with_text("copy-of-a.txt")
        .attr("data-sha256")?;
    assert_eq!(first, second);
    assert!(view.has_element("#stored li.blob .duplicate", "already stored"));
    Ok(())
}

#[tokio::test]
async fn external_uploads_go_to_the_store_and_are_checked_on_save() -> Result<(), TestError> {
    let app = app();
    let mut view = live(&app, "/upload/external").await?;
    let content = b"straight to the object store".to_vec();
    let mut upload = view
        .upload(
            "#upload-form",
            "files",
            vec![
                TestFile::new("notes.txt", "text/plain", content.clone()),
                TestFile::new("never-sent.txt", "text/plain", "lost"),
            ],
        )
        .await?;
    let meta = upload
        .external("notes.txt")
        .expect("an external entry")
        .clone();
    assert_eq!(meta["uploader"], "DemoStore");
    let url = meta["url"].as_str().unwrap();
    assert_eq!(
        examples::object_store::send(url, "PUT", &content)
            .await
            .unwrap(),
        200
    );
    view.render_upload(&mut upload, "notes.txt", 100).await?;
    // The second file's bytes never reach the store; its uploader still says it is done.
    view.render_upload(&mut upload, "never-sent.txt", 100)
        .await?;
    view.form("#upload-form").submit().await?;
    assert!(
        view.has_element("#stored li.object", "notes.txt"),
        "{}",
        view.html()
    );
    assert!(
        view.has_element("#stored li.error", "never-sent.txt"),
        "{}",
        view.html()
    );
    Ok(())
}
