// /autocomplete: phx-change with phx-debounce sends one event per pause in
// typing; submitting searches through send_info.

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

const suggestsIs = (page, n) =>
  page.waitForFunction((n) => document.querySelector("#suggests")?.textContent.trim() === String(n), n);

test("autocomplete: debounced suggestions, then a search", async () => {
  const { page, problems } = await openLiveView(browser, "/autocomplete");
  const input = page.locator("#city");
  // Three keys well within the 300 ms debounce: one event.
  await input.pressSequentially("Che", { delay: 20 });
  await suggestsIs(page, 1);
  assert.deepEqual(await page.locator("#suggestions li").allTextContents(), ["Cheyenne"]);
  await page.waitForTimeout(500);
  assert.equal((await page.locator("#suggests").textContent()).trim(), "1", "one event for three keys");

  await input.fill("Chi");
  await suggestsIs(page, 2);
  assert.deepEqual(await page.locator("#suggestions li").allTextContents(), ["Chicago"]);

  await input.fill("Chicago");
  await page.click("#city-form button[type=submit]");
  await page.waitForFunction(() => document.querySelectorAll("#stores li").length === 2);
  assert.deepEqual(await page.locator("#stores li b").allTextContents(), ["Chicago Loop", "Chicago Wicker Park"]);
  await assertNoReload(page);
  assertNoProblems(problems);
});
