// /counter: clicks are sent over the LiveView socket and the replies patch
// the page in place.

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

test("counter: + three times and - once shows Count: 2", async () => {
  const { page, problems } = await openLiveView(browser, "/counter");
  const heading = page.locator("[data-phx-main] h1");
  assert.equal((await heading.textContent()).trim(), "Count: 0");

  const expectCount = async (n) => {
    await page.waitForFunction(
      (text) => document.querySelector("[data-phx-main] h1")?.textContent.trim() === text,
      `Count: ${n}`,
    );
  };
  const inc = page.locator('[data-phx-main] button[phx-click="inc"]');
  const dec = page.locator('[data-phx-main] button[phx-click="dec"]');

  // wait for each reply before the next click
  for (const n of [1, 2, 3]) {
    await inc.click();
    await expectCount(n);
  }
  await dec.click();
  await expectCount(2);

  assert.equal((await heading.textContent()).trim(), "Count: 2");
  assert.ok(await page.locator("[data-phx-main]").evaluate((el) => el.classList.contains("phx-connected")));
  await assertNoReload(page);
  assertNoProblems(problems);
});
