// /prints: moving a range slider sends phx-change; the price follows.

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

test("prints: the slider updates the count and the price", async () => {
  const { page, problems } = await openLiveView(browser, "/prints");
  assert.equal((await page.locator("#price").textContent()).trim(), "$5.00");
  const slide = (value) =>
    page.locator("#photo_count").evaluate((el, value) => {
      el.value = value;
      el.dispatchEvent(new Event("input", { bubbles: true }));
    }, value);
  await slide("120");
  await page.waitForFunction(() => document.querySelector("#price").textContent.trim() === "$48.00");
  assert.equal((await page.locator("#count").textContent()).trim(), "120");
  await slide("50");
  await page.waitForFunction(() => document.querySelector("#price").textContent.trim() === "$25.00");
  await assertNoReload(page);
  assertNoProblems(problems);
});
