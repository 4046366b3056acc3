// /nested: two child counters and a clock, each a LiveView of its own inside
// the page's view; and /player/:album: a sticky "now playing" view that keeps
// its state across live navigation.

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

const text = async (page, selector) => (await page.locator(selector).textContent()).trim();

test("nested: children update independently, survive parent renders, crash alone", async () => {
  const { page, problems } = await openLiveView(browser, "/nested");
  for (const id of ["counter-left", "counter-right", "clock"]) {
    await page.waitForSelector(`#${id}.phx-connected`);
  }
  const parentId = await page.locator("[data-phx-main]").getAttribute("id");
  assert.equal(await page.locator("#counter-left").getAttribute("data-phx-parent-id"), parentId);

  // Each child's events go to that child alone.
  await page.locator("#counter-left button.inc").click();
  await textIs(page, "#counter-left .count", "1");
  await page.locator("#counter-left button.inc").click();
  await textIs(page, "#counter-left .count", "2");
  await page.locator("#counter-right button.inc").click();
  await textIs(page, "#counter-right .count", "1");
  assert.equal(await text(page, "#counter-left .count"), "2");

  // The clock child ticks on its own.
  await page.waitForFunction(() => Number(document.querySelector("#clock .seconds")?.textContent) >= 1);

  // A parent re-render keeps the children mounted, with their state.
  await page.locator("#rerender").click();
  await textIs(page, "#parent-renders", "1");
  assert.equal(await text(page, "#counter-left .count"), "2");
  assert.equal(await text(page, "#counter-right .count"), "1");

  // A crashing child rejoins alone: fresh state for it, the rest untouched.
  await page.locator("#counter-left button.crash").click();
  await textIs(page, "#counter-left .count", "0");
  await page.waitForSelector("#counter-left.phx-connected");
  assert.equal(await text(page, "#counter-right .count"), "1");
  assert.equal(await text(page, "#parent-renders"), "1");
  await page.locator("#counter-left button.inc").click();
  await textIs(page, "#counter-left .count", "1");
  await page.locator("#counter-right button.inc").click();
  await textIs(page, "#counter-right .count", "2");

  await assertNoReload(page);
  assertNoProblems(problems);
});

test("sticky: the now-playing view keeps its state across two live navigations", async () => {
  const { page, problems } = await openLiveView(browser, "/player");
  await page.waitForSelector("#now-playing.phx-connected");
  assert.equal(await page.locator("#now-playing").getAttribute("data-phx-parent-id"), null);
  await page.locator("#next-track").click();
  await textIs(page, "#track", "Giant Steps");
  await page.locator("#next-track").click();
  await textIs(page, "#track", "Blue in Green");
  await page.waitForFunction(() => Number(document.querySelector("#elapsed")?.textContent) >= 1);
  const mainId = await page.locator("[data-phx-main]").getAttribute("id");
  await page.evaluate(() => {
    window.__player = document.querySelector("#now-playing");
  });

  // Live navigation to the queue (another view) by a link, then back to the album by the
  // queue's push_redirect.
  await page.locator("#to-queue").click();
  await page.waitForURL(/\/queue$/);
  await textIs(page, "#page-title", "Queue");
  assert.equal(await text(page, "#track"), "Blue in Green", "still the same track");
  const elapsed = Number(await text(page, "#elapsed"));
  assert.ok(elapsed >= 1, "the elapsed time did not restart");

  // Back by a server-side push_redirect.
  await page.locator("#back-to-album").click();
  await page.waitForURL(/\/player$/);
  await textIs(page, "#page-title", "Kind of Blue");
  assert.equal(await text(page, "#track"), "Blue in Green");
  // Still playing: it keeps ticking where it was.
  await page.waitForFunction((e) => Number(document.querySelector("#elapsed")?.textContent) > e, elapsed);
  assert.ok(
    await page.evaluate(() => document.querySelector("#now-playing") === window.__player),
    "the same element: the player was never torn down",
  );
  assert.equal(await page.locator("[data-phx-main]").getAttribute("id"), mainId, "live navigation");
  await page.locator("#next-track").click();
  await textIs(page, "#track", "Naima");

  await assertNoReload(page);
  assertNoProblems(problems);
});
