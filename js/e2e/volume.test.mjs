// /volume: window key events change the volume; the title follows
// (page_title → "t"); at 100 an info flash appears (put_flash) and a click
// clears it (lv:clear-flash).

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

test("volume: arrow keys change the title and raise then clear a flash", async () => {
  const { page, problems } = await openLiveView(browser, "/volume");
  assert.equal(await page.title(), "Volume 50%");
  assert.equal(await page.locator("#flash-info").count(), 0);

  for (const volume of [60, 70, 80, 90, 100]) {
    await page.keyboard.press("ArrowUp");
    await page.waitForFunction((t) => document.title === t, `Volume ${volume}%`);
  }
  assert.equal((await page.locator("#volume").textContent()).trim(), "100");
  const flash = page.locator("#flash-info");
  await flash.waitFor({ state: "visible" });
  assert.equal((await flash.textContent()).trim(), "Cranked to 100!");

  await flash.click();
  await flash.waitFor({ state: "detached" });

  await page.keyboard.press("ArrowDown");
  await page.waitForFunction(() => document.title === "Volume 90%");
  assert.equal(await page.locator("#flash-info").count(), 0, "the flash stays cleared");
  await assertNoReload(page);
  assertNoProblems(problems);
});
