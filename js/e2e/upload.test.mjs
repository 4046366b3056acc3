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
