// /search: phx-submit shows a loading state at once; send_info does the work
// and the results arrive later.

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

test("search: loading state, then results", async () => {
  const { page, problems } = await openLiveView(browser, "/search");
  await page.evaluate(() => {
    window.__sawLoading = false;
    window.__sawDisabled = false;
    new MutationObserver(() => {
      if (document.querySelector("#loading")) window.__sawLoading = true;
      if (document.querySelector("#search-form button")?.disabled) window.__sawDisabled = true;
    }).observe(document.body, { subtree: true, childList: true, attributes: true, characterData: true });
  });
  await page.fill("#zip", "596");
  await page.click("#search-form button[type=submit]");
  await page.waitForFunction(() => document.querySelector("#result-count")?.textContent.trim() === "3 stores found");
  assert.ok(await page.evaluate(() => window.__sawLoading), "the loading state was shown");
  assert.ok(await page.evaluate(() => window.__sawDisabled), "phx-disable-with disabled the button");
  assert.equal(await page.locator("#loading").count(), 0);
  assert.deepEqual(
    await page.locator("#stores li b").allTextContents(),
    ["Downtown Helena", "East Helena", "Westside Helena"],
  );
  assert.equal((await page.locator("#search-form button").textContent()).trim(), "Search");
  await assertNoReload(page);
  assertNoProblems(problems);
});
