// /hello-toggle and /hi/:name: assign re-renders in place; path parameters,
// the query string, socket.id and socket.connected reach the page.

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

const textOf = (page, selector) => page.locator(selector).textContent().then((t) => t.trim());
const waitText = (page, selector, text) =>
  page.waitForFunction(
    ([selector, text]) => document.querySelector(selector)?.textContent.trim() === text,
    [selector, text],
  );

test("hello toggle: each click flips the greeting", async () => {
  const { page, problems } = await openLiveView(browser, "/hello-toggle");
  assert.equal(await textOf(page, "#greeting"), "Goodbye 👋");
  await page.click("button[phx-click=toggle]");
  await waitText(page, "#greeting", "Hello 👋");
  await page.click("button[phx-click=toggle]");
  await waitText(page, "#greeting", "Goodbye 👋");
  await assertNoReload(page);
  assertNoProblems(problems);
});

test("/hi/:name shows the path parameter, the query, the view id and connected", async () => {
  const { page, problems } = await openLiveView(browser, "/hi/J%C3%BCrgen?greeting=Howdy");
  assert.equal(await textOf(page, "#hello"), "Howdy, Jürgen!");
  assert.equal(await page.title(), "Hi Jürgen");
  // The dead render said "no"; the joined view says "yes".
  await waitText(page, "#connected", "yes");
  const containerId = await page.locator("[data-phx-main]").getAttribute("id");
  assert.equal(await textOf(page, "#view-id"), containerId);
  assertNoProblems(problems);
});
