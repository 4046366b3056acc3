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

  // A message from the other tab (a guest: no name given) lands after them.
  const guest = await b.page.locator("#author").inputValue();
  assert.match(guest, /^guest-[0-9a-z]+$/);
  const input = b.page.locator("#chat-form input[name=text]");
  await input.fill("hi ann");
  await input.press("Enter");
  await rowCount(a.page, 26);
  assert.equal((await rows(a.page)).at(-1), `${guest}: hi ann`);
  for (const { page, problems } of [a, b]) {
    await assertNoReload(page);
    assertNoProblems(problems);
    await page.context().close();
  }
});

const onlineNames = (page) => page.locator("#online li.user").evaluateAll((lis) => lis.map((li) => li.dataset.name));

test("chat: who is online (a user's tabs once) and who is typing", async () => {
  const ann1 = await openLiveView(browser, "/chat?name=ann");
  const ann2 = await openLiveView(browser, "/chat?name=ann");
  const bob = await openLiveView(browser, "/chat?name=bob");
  await bob.page.waitForFunction(() => document.querySelector('#online li[data-name="ann"] .tabs')?.textContent.includes("2 tabs"));
  const names = await onlineNames(bob.page);
  assert.ok(names.includes("ann") && names.includes("bob"), names.join());
  assert.equal(names.filter((n) => n === "ann").length, 1, "ann is listed once");
  assert.match(await bob.page.locator('#online li[data-name="bob"]').textContent(), /\(you\)/);

  // Ann types in one tab: bob sees it; sending stops it.
  const input = ann1.page.locator("#chat-form input[name=text]");
  await input.fill("hel");
  await bob.page.waitForFunction(() => document.querySelector("#typing")?.textContent === "ann is typing…");
  await input.fill("hello bob");
  await input.press("Enter");
  await bob.page.waitForFunction(() => document.querySelector("#typing")?.textContent === "");

  // Ann's tabs close: one, then the other.
  await ann2.page.context().close();
  await bob.page.waitForFunction(() => {
    const ann = document.querySelector('#online li[data-name="ann"]');
    return ann && !ann.querySelector(".tabs");
  });
  await ann1.page.context().close();
  await bob.page.waitForFunction(() => !document.querySelector('#online li[data-name="ann"]'));
  await assertNoReload(bob.page);
  assertNoProblems(bob.problems);
  await bob.page.context().close();
});
