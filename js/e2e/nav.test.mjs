// /nav/:page: server-side push_patch (same view), push_redirect (another
// view, same socket, with a flash), redirect (a full page load).

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

test("nav: push_patch, push_redirect with a flash, live link back, redirect", async () => {
  const { page, problems } = await openLiveView(browser, "/nav/a");
  await page.evaluate(() => {
    window.__conn = window.liveSocket.socket.conn;
  });
  const sameSocket = () => page.evaluate(() => window.liveSocket.socket.conn === window.__conn);
  const viewId = await page.locator("[data-phx-main]").getAttribute("id");

  // push_patch: the URL changes, handle_params runs again in the same view.
  await page.click("#patch-b");
  await textIs(page, "#page", "b");
  assert.equal(new URL(page.url()).pathname, "/nav/b");
  assert.equal((await page.locator("#params-calls").textContent()).trim(), "2");
  assert.equal(await page.title(), "Nav b");

  // push_redirect: another view over the same socket, showing the flash.
  await page.click("#live-redirect");
  await page.waitForSelector("#landing");
  assert.equal(new URL(page.url()).pathname, "/nav-landing");
  const flash = page.locator("#flash-info");
  assert.equal((await flash.textContent()).trim(), "Welcome! You came by push_redirect.");
  assert.equal(await page.title(), "Landing");
  assert.ok(await sameSocket(), "live navigation keeps the socket");
  assert.equal(await page.locator("[data-phx-main]").getAttribute("id"), viewId);
  await flash.click();
  await flash.waitFor({ state: "detached" });

  // A live link back: a fresh Nav view (handle_params ran once).
  await page.click("#back");
  await textIs(page, "#page", "a");
  assert.equal((await page.locator("#params-calls").textContent()).trim(), "1");
  await page.waitForSelector("[data-phx-main].phx-connected");
  assert.ok(await sameSocket());
  await assertNoReload(page);

  // redirect: a full page load (the marker is gone).
  await page.click("#redirect");
  await page.waitForURL((url) => url.pathname === "/nav-landing" && url.search === "?full=1");
  await page.waitForSelector("[data-phx-main].phx-connected #arrived");
  assert.equal(await page.evaluate(() => window.__marker), undefined, "the page was loaded anew");
  // The flash set before the redirect came along in the cookie and survives the join.
  await page.waitForSelector("[data-phx-main].phx-connected #flash-info");
  assert.equal((await page.textContent("#flash-info")).trim(), "Welcome! You came by redirect.");
  assert.ok(!(await page.evaluate(() => document.cookie)).includes("__phoenix_flash__"), "the cookie is gone");
  assertNoProblems(problems);
});
