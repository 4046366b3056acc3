// /items: one view serving /items, /items/new and /items/:id (live_action). Patch links
// between its routes run handle_params on the same view: no remount, no page load.

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

test("items: /items -> /items/42 patches without a remount, live_action changes", async () => {
  const { page, problems } = await openLiveView(browser, "/items");
  await page.evaluate(() => {
    window.__conn = window.liveSocket.socket.conn;
  });
  await textIs(page, "#live-action", "index");
  const mountId = (await page.textContent("#mount-id")).trim();
  const viewId = await page.locator("[data-phx-main]").getAttribute("id");
  // The container and the slot outside it.
  assert.equal(await page.evaluate(() => document.querySelector("[data-phx-main]").tagName), "SECTION");
  assert.ok(await page.$("section.items-page[data-phx-main]"));
  assert.ok(await page.$("body > #items-slot"));

  await page.click("#to-42");
  await textIs(page, "#live-action", "show");
  assert.equal(new URL(page.url()).pathname, "/items/42");
  assert.equal((await page.textContent("#selected")).trim(), "Item 42");
  assert.equal((await page.textContent("#mount-id")).trim(), mountId, "no remount");
  assert.equal((await page.textContent("#params-runs")).trim(), "2");
  assert.equal(await page.title(), "Items: show");

  await page.click("#to-new");
  await textIs(page, "#live-action", "new");
  assert.equal(new URL(page.url()).pathname, "/items/new");
  assert.equal((await page.textContent("#mount-id")).trim(), mountId, "no remount");

  // A server-side push_patch to another route of the view: still no remount.
  await page.click("#next");
  await textIs(page, "#selected", "Item 1");
  assert.equal(new URL(page.url()).pathname, "/items/1");
  await textIs(page, "#live-action", "show");
  assert.equal((await page.textContent("#mount-id")).trim(), mountId, "no remount");
  await page.goBack();
  await textIs(page, "#live-action", "new");

  // Back: handle_params again, same view.
  await page.goBack();
  await textIs(page, "#live-action", "show");
  assert.equal((await page.textContent("#mount-id")).trim(), mountId);
  assert.equal(await page.locator("[data-phx-main]").getAttribute("id"), viewId);
  assert.ok(await page.evaluate(() => window.liveSocket.socket.conn === window.__conn));
  await assertNoReload(page);
  assertNoProblems(problems);
});

test("items: /items/new has a root layout of its own", async () => {
  const { page, problems } = await openLiveView(browser, "/items/new");
  await textIs(page, "#live-action", "new");
  assert.ok(await page.$("body > #modal-portal"));
  assertNoProblems(problems);
});
