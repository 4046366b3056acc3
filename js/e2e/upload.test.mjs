// /upload: allow_upload renders the live file input; selected files show as
// entries; cancel_upload removes one; submitting uploads the rest in chunks
// and consume_uploaded_entries stores them.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { launch, openLiveView, assertNoReload, assertNoProblems } from "./support.mjs";

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

test("upload: select two files, cancel one, upload and consume the other", async () => {
  const { page, problems } = await openLiveView(browser, "/upload");
  const big = "0123456789abcdef".repeat(4000); // 64,000 bytes: four 16 kB chunks
  await page.locator("#upload-form input[type=file]").setInputFiles([
    { name: "keep.txt", mimeType: "text/plain", buffer: Buffer.from(`KEEP-${big}`) },
    { name: "drop.txt", mimeType: "text/plain", buffer: Buffer.from("DROP") },
  ]);
  await page.waitForFunction(() => document.querySelectorAll("#entries li.entry").length === 2);
  assert.deepEqual(
    (await page.locator("#entries li.entry .name").allTextContents()).sort(),
    ["drop.txt", "keep.txt"],
  );

  await page.locator("#entries li.entry", { hasText: "drop.txt" }).locator("button[phx-click=cancel]").click();
  await page.waitForFunction(() => document.querySelectorAll("#entries li.entry").length === 1);
  assert.deepEqual(await page.locator("#entries li.entry .name").allTextContents(), ["keep.txt"]);

  await page.click("#upload-form button[type=submit]");
  await page.waitForFunction(() => document.querySelectorAll("#stored li").length === 1, null, { timeout: 15_000 });
  assert.equal(
    (await page.locator("#stored li figcaption").textContent()).trim(),
    `keep.txt (${5 + big.length} bytes)`,
  );
  assert.equal((await page.locator("#stored li code").textContent()).trim(), "KEEP-0123456789a");
  await page.waitForFunction(() => document.querySelectorAll("#entries li.entry").length === 0);
  await assertNoReload(page);
  assertNoProblems(problems);
});

test("upload: the limits are shown, and too many files is said in words", async () => {
  const { page, problems } = await openLiveView(browser, "/upload");
  assert.match(await page.locator("#limits").textContent(), /Up to 3 files of at most 2 MB each/);
  const files = ["a", "b", "c", "d"].map((name) => ({
    name: `${name}.txt`, mimeType: "text/plain", buffer: Buffer.from(name),
  }));
  await page.locator("#upload-form input[type=file]").setInputFiles(files);
  await page.waitForFunction(() => document.querySelectorAll("#entries li.entry").length === 4);
  const error = page.locator(".config-error");
  await error.waitFor();
  assert.equal(await error.getAttribute("data-reason"), "too_many_files");
  assert.equal((await error.textContent()).trim(), "Too many files: choose at most 3, or remove some.");
  // Removing one clears the error.
  await page.locator("#entries li.entry", { hasText: "d.txt" }).locator("button[phx-click=cancel]").click();
  await page.waitForFunction(() => document.querySelectorAll("#entries li.entry").length === 3);
  await page.waitForFunction(() => !document.querySelector(".config-error"));
  await assertNoReload(page);
  assertNoProblems(problems);
});

/** Drops files made in the page onto the gallery's drop target, as a user dragging them would. */
async function dropFiles(page) {
  await page.evaluate(async () => {
    // A 256x256 image of noise (it does not compress: several 16 kB chunks).
    const canvas = document.createElement("canvas");
    canvas.width = 256;
    canvas.height = 256;
    const context = canvas.getContext("2d");
    const pixels = context.createImageData(256, 256);
    let seed = 7;
    for (let i = 0; i < pixels.data.length; i++) {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      pixels.data[i] = i % 4 === 3 ? 255 : seed & 255;
    }
    context.putImageData(pixels, 0, 0);
    const png = await new Promise((resolve) => canvas.toBlob(resolve, "image/png"));
    const transfer = new DataTransfer();
    transfer.items.add(new File([png], "noise.png", { type: "image/png" }));
    transfer.items.add(new File([new Uint8Array(2_100_000)], "huge.png", { type: "image/png" }));
    transfer.items.add(new File(["%PDF-1.4"], "notes.pdf", { type: "application/pdf" }));
    const zone = document.querySelector("#drop-zone");
    zone.dispatchEvent(new DragEvent("dragenter", { dataTransfer: transfer, bubbles: true, cancelable: true }));
    zone.dispatchEvent(new DragEvent("drop", { dataTransfer: transfer, bubbles: true, cancelable: true }));
  });
}

test("upload gallery: drop images, preview them, errors in words, progress, thumbnails", async () => {
  const { page, problems } = await openLiveView(browser, "/upload");
  assert.equal((await page.textContent("#nothing-saved")).trim(), "Nothing saved yet.");
  await dropFiles(page);
  await page.waitForFunction(() => document.querySelectorAll("#entries li.entry").length === 3);

  // The image is previewed from the browser's own copy (a blob: URL), before any upload.
  const preview = page.locator("#entries li.entry", { hasText: "noise.png" }).locator("img.preview");
  await page.waitForFunction(
    () => {
      const img = document.querySelector("#entries img.preview[src^='blob:']");
      return img && img.complete && img.naturalWidth === 256;
    },
  );
  assert.match(await preview.getAttribute("src"), /^blob:/);

  // Per entry, the errors in words.
  const huge = page.locator("#entries li.entry", { hasText: "huge.png" }).locator(".error");
  assert.equal(await huge.getAttribute("data-reason"), "too_large");
  assert.equal((await huge.textContent()).trim(), "This file is larger than 2 MB.");
  const pdf = page.locator("#entries li.entry", { hasText: "notes.pdf" }).locator(".error");
  assert.equal(await pdf.getAttribute("data-reason"), "not_accepted");
  assert.equal((await pdf.textContent()).trim(), "This kind of file is not accepted (only .txt, .png, .jpg, .bin).");
  // A file that is not an image shows its extension instead of a preview.
  assert.equal((await page.locator("#entries li.entry", { hasText: "notes.pdf" }).locator(".file-icon").textContent()).trim(), "PDF");

  // Cancel the two refused files.
  for (const name of ["huge.png", "notes.pdf"]) {
    await page.locator("#entries li.entry", { hasText: name }).locator("button[phx-click=cancel]").click();
  }
  await page.waitForFunction(() => document.querySelectorAll("#entries li.entry").length === 1);

  // Record the progress bar's values while the upload runs.
  await page.evaluate(() => {
    window.__progress = [];
    const observer = new MutationObserver(() => {
      const bar = document.querySelector("#entries progress");
      if (bar) window.__progress.push(Number(bar.getAttribute("value")));
    });
    observer.observe(document.querySelector("#entries"), { subtree: true, attributes: true, childList: true, characterData: true });
  });
  await page.click("#upload-form button[type=submit]");
  await page.waitForFunction(() => document.querySelectorAll("#stored li").length === 1, null, { timeout: 15_000 });
  const seen = await page.evaluate(() => window.__progress);
  assert.ok(seen.some((value) => value > 0 && value < 100), `the bar moved through the chunks: ${seen}`);

  // The saved image is shown as a thumbnail; the entry list is empty again.
  const thumbnail = page.locator("#stored li img.thumbnail");
  assert.match(await thumbnail.getAttribute("src"), /^data:image\/png;base64,/);
  await page.waitForFunction(() => {
    const img = document.querySelector("#stored li img.thumbnail");
    return img && img.complete && img.naturalWidth === 256;
  });
  assert.match((await page.textContent("#stored li figcaption")).trim(), /^noise\.png \(\d+ bytes\)$/);
  assert.equal(await page.locator("#nothing-saved").count(), 0);
  await page.waitForFunction(() => document.querySelectorAll("#entries li.entry").length === 0);
  await assertNoReload(page);
  assertNoProblems(problems);
});

test("upload in a component: the card's own upload previews, uploads, and its handle_progress saves it", async () => {
  const { page, problems } = await openLiveView(browser, "/upload/avatar");
  await page.evaluate(async () => {
    const canvas = document.createElement("canvas");
    canvas.width = 64;
    canvas.height = 64;
    const context = canvas.getContext("2d");
    context.fillStyle = "#4f46e5";
    context.fillRect(0, 0, 64, 64);
    context.fillStyle = "#ffffff";
    context.fillRect(16, 16, 32, 32);
    const png = await new Promise((resolve) => canvas.toBlob(resolve, "image/png"));
    const transfer = new DataTransfer();
    transfer.items.add(new File([png], "ada.png", { type: "image/png" }));
    document
      .querySelector("#avatar-drop")
      .dispatchEvent(new DragEvent("drop", { dataTransfer: transfer, bubbles: true, cancelable: true }));
  });
  // The component renders the entry with its preview (auto upload starts at once); when
  // the file is stored, the card's handle_progress consumes it: no submit.
  await page.waitForFunction(() => {
    const img = document.querySelector("#avatar img.thumbnail");
    return img && img.complete && img.naturalWidth === 64;
  });
  assert.match((await page.textContent("#avatar figcaption")).trim(), /^Saved ada\.png \(\d+ bytes\)$/);
  await page.waitForFunction(() => document.querySelectorAll("#avatar-entries li").length === 0);
  await assertNoReload(page);
  assertNoProblems(problems);
});
