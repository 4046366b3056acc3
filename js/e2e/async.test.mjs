// /async: panels load on their own (assign_async), the failing panel retries,
// leaving the page cancels the tasks still running (the server's count drops
// to 0), and the client sees the old channel's leave reply then its phx_close.

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

const textIs = (page, selector, text) =>
  page.waitForFunction(
    ([selector, text]) => document.querySelector(selector)?.textContent.trim() === text,
    [selector, text],
  );

test("async: loading, then results without a reload; retry; leaving cancels the tasks", async () => {
  const { page, problems } = await openLiveView(browser, "/async");
  // Every frame the client receives, in order.
  await page.evaluate(() => {
    window.__frames = [];
    window.liveSocket.getSocket().onMessage((msg) => {
      window.__frames.push({
        topic: msg.topic,
        event: msg.event,
        ref: msg.ref,
        joinRef: msg.join_ref,
        status: msg.payload?.status,
      });
    });
  });
  const topic = `lv:${await page.locator("[data-phx-main]").getAttribute("id")}`;

  // The slow report still builds while the fast panels arrive.
  await textIs(page, "#visitors .value", "1284");
  await page.waitForSelector("#rates .error");
  assert.match(await page.locator("#rates .error").textContent(), /unavailable \(503\)/);
  assert.match(await page.locator("#report").textContent(), /Building/);
  await textIs(page, "#revenue .value", "€ 12,940");

  // Retry: the panel loads again, then shows the rates.
  await page.locator("#retry-rates").click();
  await textIs(page, "#rates .value", "1 EUR = 1.08 USD");

  // Only the report's task runs now (this test is the only one starting async tasks).
  await textIs(page, "#task-count", "1");
  const before = Number(await page.locator("#task-count").textContent());

  // Live navigation away: the view ends, its task is cancelled.
  await page.locator("#leave").click();
  await page.waitForURL(/\/async\/tasks$/);
  await textIs(page, "h1", "Async tasks");
  await textIs(page, "#task-count", "0");
  const afterCount = Number(await page.locator("#task-count").textContent());
  console.log(`async tasks: ${before} before leaving /async, ${afterCount} after`);

  // The old channel: the reply to its phx_leave, then phx_close with its join ref.
  const frames = await page.evaluate(() => window.__frames);
  const old = frames.filter((f) => f.topic === topic);
  const close = old.findIndex((f) => f.event === "phx_close");
  assert.ok(close > 0, `phx_close seen on ${topic}: ${JSON.stringify(old)}`);
  const closeFrame = old[close];
  assert.equal(closeFrame.ref, closeFrame.joinRef, "phx_close carries the join ref as its ref");
  const leaveReply = old[close - 1];
  assert.equal(leaveReply.event, "phx_reply");
  assert.equal(leaveReply.status, "ok");
  assert.equal(leaveReply.joinRef, closeFrame.joinRef, "the reply right before it is the same join's");

  await assertNoReload(page);
  assertNoProblems(problems);
});
