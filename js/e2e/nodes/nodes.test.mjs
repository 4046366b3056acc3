// Two example servers (nodes A and B) sharing a Redis started by `cargo xtask e2e`/`test`:
// a browser on A and a browser on B chat, see each other online, and share one counter.
//
// BASE_URL_A, BASE_URL_B   the two nodes (set by xtask)

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { launch, openLiveViewAt, assertNoReload, assertNoProblems } from "../support.mjs";

const A = process.env.BASE_URL_A;
const B = process.env.BASE_URL_B;

let browser;
before(async () => {
  assert.ok(A && B, "BASE_URL_A and BASE_URL_B name the two nodes");
  assert.notEqual(A, B);
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

const rows = (page) => page.locator("#messages p.message").allTextContents();
const online = (page) => page.locator("#online li.user").evaluateAll((lis) => lis.map((li) => li.dataset.name));

test("nodes: a browser on A posts to the chat, a browser on B sees it", async () => {
  const ann = await openLiveViewAt(browser, A, "/chat?name=ann");
  const bob = await openLiveViewAt(browser, B, "/chat?name=bob");

  // Each sees the other online, though they are on different nodes.
  await ann.page.waitForFunction(() => !!document.querySelector('#online li[data-name="bob"]'));
  await bob.page.waitForFunction(() => !!document.querySelector('#online li[data-name="ann"]'));
  assert.deepEqual((await online(ann.page)).sort(), ["ann", "bob"]);

  const input = ann.page.locator("#chat-form input[name=text]");
  await input.fill("hello from node A");
  // Typing on A shows on B.
  await bob.page.waitForFunction(() => document.querySelector("#typing")?.textContent === "ann is typing…");
  await input.press("Enter");
  await bob.page.waitForFunction(() =>
    [...document.querySelectorAll("#messages p.message")].some((p) => p.textContent === "ann: hello from node A"),
  );

  const reply = bob.page.locator("#chat-form input[name=text]");
  await reply.fill("hi ann, this is B");
  await reply.press("Enter");
  await ann.page.waitForFunction(() =>
    [...document.querySelectorAll("#messages p.message")].some((p) => p.textContent === "bob: hi ann, this is B"),
  );
  assert.deepEqual(await rows(ann.page), await rows(bob.page), "the same conversation on both nodes");

  // Bob leaves: ann (on the other node) sees him go.
  await bob.page.context().close();
  await ann.page.waitForFunction(() => !document.querySelector('#online li[data-name="bob"]'));
  await assertNoReload(ann.page);
  assertNoProblems(ann.problems);
  assertNoProblems(bob.problems);
  await ann.page.context().close();
});

test("nodes: the shared counter is shared by both nodes", async () => {
  const a = await openLiveViewAt(browser, A, "/rtcounter");
  const b = await openLiveViewAt(browser, B, "/rtcounter");
  const count = (page) => page.locator("#count").textContent().then((t) => Number(t.trim()));
  const countIs = (page, n) =>
    page.waitForFunction((n) => document.querySelector("#count")?.textContent.trim() === String(n), n);
  const start = await count(a.page);
  await countIs(b.page, start);
  await a.page.click("button[phx-click=inc]");
  await countIs(b.page, start + 1);
  await b.page.click("button[phx-click=inc]");
  await b.page.click("button[phx-click=inc]");
  await countIs(a.page, start + 3);
  await a.page.click("button[phx-click=dec]");
  await countIs(b.page, start + 2);
  for (const { page, problems } of [a, b]) {
    await assertNoReload(page);
    assertNoProblems(problems);
    await page.context().close();
  }
});
