// /rtcounter: a click in one tab updates the other (subscribe + broadcast).

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

const count = (page) => page.locator("#count").textContent().then((t) => Number(t.trim()));
const countIs = (page, n) =>
  page.waitForFunction((n) => document.querySelector("#count")?.textContent.trim() === String(n), n);

test("rtcounter: two tabs share one count", async () => {
  const a = await openLiveView(browser, "/rtcounter");
  const b = await openLiveView(browser, "/rtcounter");
  const start = await count(a.page);
  assert.equal(await count(b.page), start);

  await a.page.click("button[phx-click=inc]");
  await countIs(a.page, start + 1);
  await countIs(b.page, start + 1);
  await b.page.click("button[phx-click=inc]");
  await countIs(a.page, start + 2);
  await b.page.click("button[phx-click=dec]");
  await countIs(a.page, start + 1);
  await countIs(b.page, start + 1);

  for (const { page, problems } of [a, b]) {
    await assertNoReload(page);
    assertNoProblems(problems);
  }
});
