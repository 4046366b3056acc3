// A refused event never locks the page: a misnamed click, submit or change gets an answer
// that clears the element's loading state and ref lock (phx-click-loading, a disabled
// submit button on "Searching..."), the view keeps its state, and the next event works.
// (Before the fix the server answered with an error reply, which the 1.2 client never
// unlocks: the element stayed dead until a reload.)

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

/** Renames the binding `attr` of the element `selector` with a JS command, as the issue does. */
async function rename(page, selector, attr, name) {
  await page.evaluate(
    ([selector, attr, name]) => {
      const el = document.querySelector(selector);
      window.liveSocket.execJS(el, JSON.stringify([["set_attr", { attr: [attr, name] }]]));
    },
    [selector, attr, name],
  );
  await page.waitForFunction(
    ([attr, name]) => document.querySelector(`[${attr}="${name}"]`) !== null,
    [attr, name],
  );
}

/** Waits until no element of the view carries a pending ref (the client's lock). */
async function unlocked(page) {
  await page.waitForFunction(
    () =>
      document.querySelectorAll("[data-phx-ref-src], [data-phx-ref-lock], [data-phx-ref-loading]").length === 0 &&
      document.querySelectorAll(".phx-click-loading, .phx-submit-loading, .phx-change-loading").length === 0,
  );
}

test("refused: a misnamed click unlocks the button and the counter goes on", async () => {
  const { page, problems } = await openLiveView(browser, "/counter");
  const inc = '[data-phx-main] button[phx-click="inc"]';
  await page.click(inc);
  await page.waitForFunction(() => document.querySelector("[data-phx-main] h1").textContent.includes("1"));

  // The client's debug channel shows why (a console warning from app.js).
  const warnings = [];
  page.on("console", (msg) => {
    if (msg.type() === "warning") warnings.push(msg.text());
  });
  await page.evaluate(() => window.liveSocket.enableDebug());
  await rename(page, inc, "phx-click", "nope");
  const refused = page.evaluate(
    () =>
      new Promise((resolve, reject) => {
        window.addEventListener("phx:lv:refused", (e) => resolve(e.detail), { once: true });
        setTimeout(() => reject(new Error("no lv:refused event within 10 s")), 10_000);
      }),
  );
  await page.click('[data-phx-main] button[phx-click="nope"]');
  assert.deepEqual(await refused, { reason: "unknown event", event: "nope" });
  await unlocked(page);
  assert.ok(warnings.some((text) => text.includes("refused")), `a console warning: ${warnings}`);
  await page.evaluate(() => window.liveSocket.disableDebug());
  // The state is kept: still 1.
  assert.ok((await page.textContent("[data-phx-main] h1")).includes("1"));

  // A second click on the same element is sent and answered again (no lock).
  await page.click('[data-phx-main] button[phx-click="nope"]');
  await unlocked(page);
  // Renamed back, it works.
  await rename(page, '[data-phx-main] button[phx-click="nope"]', "phx-click", "inc");
  await page.click(inc);
  await page.waitForFunction(() => document.querySelector("[data-phx-main] h1").textContent.includes("2"));
  await assertNoReload(page);
  assertNoProblems(problems);
});

test("refused: a misnamed submit re-enables the button and restores its text", async () => {
  const { page, problems } = await openLiveView(browser, "/search");
  await rename(page, "#search-form", "phx-submit", "zip-serch");
  await page.fill("#zip", "80");
  await page.click('#search-form button[type="submit"]');
  await unlocked(page);
  const button = page.locator('#search-form button[type="submit"]');
  assert.equal(await button.isDisabled(), false);
  assert.equal((await button.textContent()).trim(), "Search");
  assert.equal(await page.locator("#zip").isEditable(), true);

  // Fixed, the same form searches.
  await rename(page, "#search-form", "phx-submit", "zip-search");
  await page.click('#search-form button[type="submit"]');
  await page.waitForSelector("#result-count");
  await assertNoReload(page);
  assertNoProblems(problems);
});

test("refused: a misnamed change unlocks the form and the next change is applied", async () => {
  const { page, problems } = await openLiveView(browser, "/prints");
  await rename(page, "#prints-form", "phx-change", "updte");
  await page.locator("#photo_count").fill("100");
  await unlocked(page);
  // The view's state is kept.
  assert.equal((await page.textContent("#count")).trim(), "10");

  await rename(page, "#prints-form", "phx-change", "update");
  await page.locator("#photo_count").fill("200");
  await page.waitForFunction(() => document.querySelector("#count").textContent.trim() === "200");
  await assertNoReload(page);
  assertNoProblems(problems);
});
