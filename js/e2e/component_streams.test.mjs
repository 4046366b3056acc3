// /streams/components: four components each hold a stream named "items". Each
// stream has its own reference, so resetting one component's stream leaves
// the items of the other three on the page.

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

const items = (page, box) =>
  page.$$eval(`#${box} li`, (lis) => lis.map((li) => li.textContent.trim()));

test("component streams: resetting one box keeps the other three boxes' items", async () => {
  const { page, problems } = await openLiveView(browser, "/streams/components");
  const boxes = ["box-a", "box-b", "box-c", "box-d"];
  for (const box of boxes) {
    assert.deepEqual(await items(page, box), [`${box} item 1`, `${box} item 2`]);
  }
  // One more item in every box, so each holds three.
  for (const box of boxes) {
    await page.locator(`#${box} button.add`).click();
    await page.waitForFunction((box) => document.querySelectorAll(`#${box} li`).length === 3, box);
  }
  const refs = await page.$$eval("[data-phx-stream]", (els) => [
    ...new Set(els.map((el) => el.getAttribute("data-phx-stream"))),
  ]);
  assert.equal(refs.length, 4, `one stream reference per component: ${refs}`);

  // Reset box-b: it holds its new item alone; the others keep all three.
  await page.locator("#box-b button.reset").click();
  await page.waitForFunction(() => document.querySelectorAll("#box-b li").length === 1);
  assert.deepEqual(await items(page, "box-b"), ["box-b item 4"]);
  for (const box of ["box-a", "box-c", "box-d"]) {
    assert.deepEqual(await items(page, box), [`${box} item 1`, `${box} item 2`, `${box} item 3`]);
  }
  await assertNoReload(page);
  assertNoProblems(problems);
});
