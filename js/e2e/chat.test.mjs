// /chat: messages reach every tab; the rows stay in the DOM (phx-update
// "append") although the server forgets them after each render (temp_assign).

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

const rows = (page) => page.locator("#messages p.message").allTextContents();
const rowCount = (page, n) =>
  page.waitForFunction((n) => document.querySelectorAll("#messages p.message").length === n, n);

test("chat: 25 messages appended in both tabs, in order", async () => {
  const a = await openLiveView(browser, "/chat");
  const b = await openLiveView(browser, "/chat");
  await a.page.fill("#author", "ann");
  const sent = [];
  for (let i = 1; i <= 25; i++) {
    const input = a.page.locator("#chat-form input[name=text]");
    await input.fill(`hello ${i}`);
    await input.press("Enter");
    sent.push(`ann: hello ${i}`);
    await rowCount(a.page, i);
  }
  await rowCount(b.page, 25);
  assert.deepEqual(await rows(a.page), sent);
  assert.deepEqual(await rows(b.page), sent);
  // Each row has its DOM id; the input came back empty and focused.
  const ids = await a.page.locator("#messages p.message").evaluateAll((ps) => ps.map((p) => p.id));
  assert.equal(new Set(ids).size, 25);
  assert.equal(await a.page.locator("#chat-form input[name=text]").inputValue(), "");
  assert.equal(await a.page.evaluate(() => document.activeElement?.name), "text");

  // A message from the other tab lands after them.
  const input = b.page.locator("#chat-form input[name=text]");
  await input.fill("hi ann");
  await input.press("Enter");
  await rowCount(a.page, 26);
  assert.equal((await rows(a.page)).at(-1), "anonymous: hi ann");
  for (const { page, problems } of [a, b]) {
    await assertNoReload(page);
    assertNoProblems(problems);
  }
});
