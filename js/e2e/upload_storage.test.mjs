// /upload/checksum: the same upload over the socket, into a storage of the
// application's own (content-addressed by SHA-256); /upload/external: the
// browser's DemoStore uploader PUTs the file straight to an object store with
// the URL the server presigned, and the server checks the store on save.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { launch, openLiveView, assertNoReload, assertNoProblems } from "./support.mjs";

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

test("upload/checksum: files are stored under their SHA-256, the same contents once", async () => {
  const { page, problems } = await openLiveView(browser, "/upload/checksum");
  // Contents unique to this run: "already stored" must be this test's doing.
  const contents = `e2e ${Date.now()} ${Math.random()} `.repeat(2000);
  const sha256 = createHash("sha256").update(contents).digest("hex");
  const input = page.locator("#upload-form input[type=file]");

  await input.setInputFiles([{ name: "first.txt", mimeType: "text/plain", buffer: Buffer.from(contents) }]);
  await page.waitForFunction(() => document.querySelectorAll("#entries li.entry").length === 1);
  await page.click("#upload-form button[type=submit]");
  const first = page.locator("#stored li.blob", { hasText: "first.txt" });
  await first.waitFor({ timeout: 15_000 });
  assert.equal(await first.getAttribute("data-sha256"), sha256);
  assert.match(await first.textContent(), new RegExp(`first\\.txt \\(${contents.length} bytes\\): sha256 ${sha256}`));
  assert.equal(await first.locator(".duplicate").count(), 0);

  await input.setInputFiles([{ name: "copy.txt", mimeType: "text/plain", buffer: Buffer.from(contents) }]);
  await page.waitForFunction(() => document.querySelectorAll("#entries li.entry").length === 1);
  await page.click("#upload-form button[type=submit]");
  const copy = page.locator("#stored li.blob", { hasText: "copy.txt" });
  await copy.waitFor({ timeout: 15_000 });
  assert.equal(await copy.getAttribute("data-sha256"), sha256);
  assert.equal((await copy.locator(".duplicate").textContent()).trim(), "already stored: no new copy");
  await assertNoReload(page);
  assertNoProblems(problems);
});

test("upload/external: the browser sends the file to the object store, progress completes it", async () => {
  const { page, problems } = await openLiveView(browser, "/upload/external");
  const storeUrl = (await page.locator("#store-url").textContent()).trim();
  assert.match(storeUrl, /^http:\/\/127\.0\.0\.1:\d+$/);
  const contents = "EXTERNAL-" + "0123456789abcdef".repeat(20_000); // 320 kB

  // Every request to the store, to prove the bytes went there and not over the socket.
  const puts = [];
  page.on("request", (request) => {
    if (request.url().startsWith(storeUrl) && request.method() === "PUT") puts.push(request.url());
  });

  await page.locator("#upload-form input[type=file]").setInputFiles([
    { name: "photo.txt", mimeType: "text/plain", buffer: Buffer.from(contents) },
  ]);
  await page.waitForFunction(() => document.querySelectorAll("#entries li.entry").length === 1);
  await page.click("#upload-form button[type=submit]");
  // The submit waits for the upload; the entry then shows "uploaded" (progress 100).
  const stored = page.locator("#stored li.object", { hasText: "photo.txt" });
  await stored.waitFor({ timeout: 15_000 });
  assert.equal(
    (await stored.textContent()).trim(),
    `photo.txt (${contents.length} bytes, text/plain): EXTERNAL-0123456`,
  );
  assert.equal(puts.length, 1, "one PUT to the store");
  assert.match(puts[0], /\/photo\.txt\?size=\d+&expires=\d+&signature=[0-9a-f]{64}$/);
  const key = await stored.getAttribute("data-key");
  assert.ok(puts[0].includes(`/${key}?`), `${puts[0]} is the object ${key}`);
  await page.waitForFunction(() => document.querySelectorAll("#entries li.entry").length === 0);
  await assertNoReload(page);
  assertNoProblems(problems);
});
