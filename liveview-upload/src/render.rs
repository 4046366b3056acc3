//! Attributes of the live file input (§10.1) and of image previews.

use crate::config::UploadConfig;
use crate::entry::UploadEntry;

/// The attributes of the live file input of `config`, in order, as
/// `(name, value)`; `None` is a boolean attribute (rendered bare). Values are
/// not escaped.
///
/// `data-phx-error-refs` is omitted when there are no errors,
/// `data-phx-auto-upload` unless `auto_upload`, `multiple` unless
/// `max_entries > 1`, `accept` when anything is accepted.
pub fn input_attrs(config: &UploadConfig) -> Vec<(&'static str, Option<String>)> {
    let mut attrs: Vec<(&'static str, Option<String>)> = vec![
        ("id", Some(config.upload_ref().to_owned())),
        ("type", Some("file".to_owned())),
        ("name", Some(config.name().to_owned())),
    ];
    if let Some(accept) = config.accept_attr() {
        attrs.push(("accept", Some(accept)));
    }
    attrs.push(("data-phx-hook", Some("Phoenix.LiveFileUpload".to_owned())));
    attrs.push(("data-phx-upload-ref", Some(config.upload_ref().to_owned())));
    attrs.push(("data-phx-active-refs", Some(config.active_refs().join(","))));
    attrs.push(("data-phx-done-refs", Some(config.done_refs().join(","))));
    attrs.push((
        "data-phx-preflighted-refs",
        Some(config.preflighted_refs().join(",")),
    ));
    let error_refs = config.error_refs();
    if !error_refs.is_empty() {
        attrs.push(("data-phx-error-refs", Some(error_refs.join(","))));
    }
    if config.auto_upload() {
        attrs.push(("data-phx-auto-upload", None));
    }
    if config.options().max_entries > 1 {
        attrs.push(("multiple", None));
    }
    attrs
}

/// The live file input's attributes as escaped HTML
/// (`id="phx-…" type="file" name="avatar" … multiple`), for
/// `<input {attrs}>`.
pub fn live_file_input_attrs(config: &UploadConfig) -> String {
    render_attrs(&input_attrs(config))
}

/// The whole live file input element: `<input …>`.
pub fn live_file_input(config: &UploadConfig) -> String {
    format!("<input {}>", live_file_input_attrs(config))
}

/// The live file input with extra attributes (Phoenix: `<.live_file_input upload={…}
/// class="…" required />`): `(name, Some(value))` renders `name="value"` (escaped),
/// `(name, None)` a bare boolean attribute. The attributes the client needs (`id`, `type`,
/// `name`, `accept`, `multiple`, `data-phx-*`) cannot be replaced: extra ones with those names,
/// or with a name that is not a plain attribute name (letters, digits, `-`, `_`, `:`, `.`),
/// are left out.
///
/// ```
/// use liveview_upload::{live_file_input_with, UploadConfig, UploadOptions};
/// let config = UploadConfig::with_ref("photos", "phx-1", UploadOptions::new()).unwrap();
/// let html = live_file_input_with(
///     &config,
///     [("class", Some("sr-only")), ("required", None), ("id", Some("mine")), ("x\" onclick", None)],
/// );
/// assert!(html.ends_with(r#" class="sr-only" required>"#));
/// assert!(html.starts_with(r#"<input id="phx-1" "#));
/// assert!(!html.contains("mine") && !html.contains("onclick"));
/// ```
pub fn live_file_input_with<'a>(
    config: &UploadConfig,
    extra: impl IntoIterator<Item = (&'a str, Option<&'a str>)>,
) -> String {
    let mut attrs: Vec<(&str, Option<String>)> = input_attrs(config);
    let reserved = |name: &str| {
        matches!(name, "id" | "type" | "name" | "accept" | "multiple")
            || name.starts_with("data-phx-")
    };
    let plain = |name: &str| {
        !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | ':' | '.'))
    };
    for (name, value) in extra {
        let lower = name.to_ascii_lowercase();
        if plain(name) && !reserved(&lower) {
            attrs.push((name, value.map(str::to_owned)));
        }
    }
    format!("<input {}>", render_attrs(&attrs))
}

/// The attributes of an image preview of `entry` (Phoenix's
/// `live_img_preview`): `id="phx-preview-<ref>"`, `data-phx-upload-ref`,
/// `data-phx-entry-ref`, `data-phx-hook="Phoenix.LiveImgPreview"`,
/// `data-phx-update="ignore"`, as escaped HTML.
pub fn live_img_preview_attrs(entry: &UploadEntry) -> String {
    render_attrs(&[
        ("id", Some(format!("phx-preview-{}", entry.entry_ref))),
        ("data-phx-upload-ref", Some(entry.upload_ref.clone())),
        ("data-phx-entry-ref", Some(entry.entry_ref.clone())),
        ("data-phx-hook", Some("Phoenix.LiveImgPreview".to_owned())),
        ("data-phx-update", Some("ignore".to_owned())),
    ])
}

fn render_attrs(attrs: &[(&str, Option<String>)]) -> String {
    let mut out = String::new();
    for (name, value) in attrs {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(name);
        if let Some(value) = value {
            out.push_str("=\"");
            liveview_diff::escape_into(value, &mut out);
            out.push('"');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ClientEntry, UploadOptions};

    #[test]
    fn fresh_input() {
        let c = UploadConfig::with_ref("avatar", "phx-GBsiA", UploadOptions::new()).unwrap();
        assert_eq!(
            live_file_input(&c),
            r#"<input id="phx-GBsiA" type="file" name="avatar" data-phx-hook="Phoenix.LiveFileUpload" data-phx-upload-ref="phx-GBsiA" data-phx-active-refs="" data-phx-done-refs="" data-phx-preflighted-refs="">"#
        );
    }

    #[test]
    fn full_input_escaped() {
        let opts = UploadOptions::new()
            .accept([".jpg", "image/png"])
            .max_entries(2)
            .auto_upload(true);
        let mut c = UploadConfig::with_ref("a\"<b>", "phx-GBsiA", opts).unwrap();
        c.put_entries(&[
            ClientEntry::new("0", "a.jpg", "image/jpeg", 3),
            ClientEntry::new("1", "b.gif", "image/gif", 3),
            ClientEntry::new("2", "c.jpg", "image/jpeg", 3),
        ]);
        assert_eq!(
            live_file_input_attrs(&c),
            "id=\"phx-GBsiA\" type=\"file\" name=\"a&quot;&lt;b&gt;\" accept=\".jpg,image/png\" \
             data-phx-hook=\"Phoenix.LiveFileUpload\" data-phx-upload-ref=\"phx-GBsiA\" \
             data-phx-active-refs=\"0,1,2\" data-phx-done-refs=\"\" data-phx-preflighted-refs=\"\" \
             data-phx-error-refs=\"1,phx-GBsiA\" data-phx-auto-upload multiple"
        );
    }

    #[test]
    fn img_preview() {
        let mut c = UploadConfig::with_ref("avatar", "phx-1", UploadOptions::new()).unwrap();
        c.put_entries(&[ClientEntry::new("7", "a.png", "image/png", 3)]);
        assert_eq!(
            live_img_preview_attrs(&c.entries()[0]),
            r#"id="phx-preview-7" data-phx-upload-ref="phx-1" data-phx-entry-ref="7" data-phx-hook="Phoenix.LiveImgPreview" data-phx-update="ignore""#
        );
    }
}
