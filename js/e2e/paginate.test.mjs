// /paginate: patch links and push_patch change the URL without a page load;
// handle_params renders the new page; back/forward work.

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

const pageIs = (page, text) =>
  page.waitForFunction((text) => document.querySelector("#page")?.textContent.trim() === text, text);
const firstRow = (page) => page.locator("#donations tbody tr").first().getAttribute("id");
const query = (page) => Object.fromEntries(new URL(page.url()).searchParams);

test("paginate: patch links, push_patch from events, and history", async () => {
  const { page, problems } = await openLiveView(browser, "/paginate");
  await page.evaluate(() => {
    window.__conn = window.liveSocket.socket.conn;
  });
  assert.equal(await firstRow(page), "donation-1");

  // A patch link (data-phx-link="patch").
  await page.click("#next");
  await pageIs(page, "Page 2 of 5");
  assert.deepEqual(query(page), { page: "2", per_page: "10", sort_by: "id" });
  assert.equal(await firstRow(page), "donation-11");
  assert.equal(await page.title(), "Donations, page 2");

  // A header click: handle_event calls push_patch.
  await page.click("#sort-quantity");
  await pageIs(page, "Page 1 of 5");
  await page.waitForFunction(() => new URL(location.href).searchParams.get("sort_by") === "quantity");
  assert.deepEqual(query(page), { page: "1", per_page: "10", sort_by: "quantity" });

  // The page-size select (phx-change → push_patch).
  await page.selectOption("#per_page", "20");
  await pageIs(page, "Page 1 of 3");
  assert.equal(query(page).per_page, "20");
  assert.equal(await page.locator("#donations tbody tr").count(), 20);

  // Back twice: live patches back to page 2 sorted by id.
  await page.goBack();
  await pageIs(page, "Page 1 of 5");
  await page.goBack();
  await pageIs(page, "Page 2 of 5");
  assert.deepEqual(query(page), { page: "2", per_page: "10", sort_by: "id" });
  assert.equal(await firstRow(page), "donation-11");
  await page.goForward();
  await page.waitForFunction(() => new URL(location.href).searchParams.get("sort_by") === "quantity");

  assert.ok(await page.evaluate(() => window.liveSocket.socket.conn === window.__conn), "same socket");
  await assertNoReload(page);
  assertNoProblems(problems);
});
