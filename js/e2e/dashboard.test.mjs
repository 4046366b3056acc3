// /dashboard: repeat ticks arrive as diffs; push_event reaches the Sparkline
// hook (and window as phx:point); leaving the view stops its timer.

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

const ticksAtLeast = (page, n) =>
  page.waitForFunction((n) => Number(document.querySelector("#ticks")?.textContent) >= n, n, {
    timeout: 15_000,
  });

test("dashboard: ticks, hook events, and no timer left after leaving", async () => {
  const { page, problems } = await openLiveView(browser, "/dashboard");
  await page.evaluate(() => {
    window.__points = 0;
    window.addEventListener("phx:point", () => window.__points++);
  });
  await ticksAtLeast(page, 2);
  // The hook saw every tick's pushed event, the last one with the tick shown.
  await page.waitForFunction(() => {
    const spark = document.querySelector("#sparkline");
    const ticks = document.querySelector("#ticks").textContent.trim();
    return spark.getAttribute("last-tick") === ticks && Number(spark.getAttribute("points-received")) >= 2;
  });
  assert.ok((await page.locator("#sparkline").textContent()).length >= 2, "the hook drew points");
  assert.ok((await page.evaluate(() => window.__points)) >= 1, "window got phx:point");
  assert.equal((await page.locator("#timers").textContent()).trim(), "1");

  // Leave by a live navigation (same socket): the events stop.
  await page.click("a[data-phx-link=redirect][href='/']");
  await page.waitForURL((url) => url.pathname === "/");
  await page.waitForSelector("[data-phx-main].phx-connected h1:text('LiveView examples')");
  const seen = await page.evaluate(() => window.__points);
  await page.waitForTimeout(2500);
  assert.equal(await page.evaluate(() => window.__points), seen, "no tick after leaving");

  // Come back (history, still live): only the new view's timer runs.
  await page.goBack();
  await page.waitForURL((url) => url.pathname === "/dashboard");
  await page.waitForSelector("#sparkline");
  await page.waitForFunction(() => Number(document.querySelector("#ticks")?.textContent) >= 1, null, {
    timeout: 15_000,
  });
  assert.equal((await page.locator("#timers").textContent()).trim(), "1", "the old timer stopped");
  await assertNoReload(page);
  assertNoProblems(problems);
});
