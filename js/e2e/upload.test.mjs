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
    (await page.locator("#stored li").textContent()).trim(),
    `keep.txt (${5 + big.length} bytes): KEEP-0123456789a`,
  );
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
