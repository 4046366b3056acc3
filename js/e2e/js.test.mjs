// /js: JS commands run in the browser alone (no frame is sent to open or close the
// modal, switch tabs or toggle the dropdown); a hook receives its pushEvent reply.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { launch, BASE_URL, TIMEOUT_MS, assertNoReload, assertNoProblems } from "./support.mjs";

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

/** Opens /js recording every frame the page sends over its LiveView socket. */
async function openRecording(path) {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.setDefaultTimeout(TIMEOUT_MS);
  const problems = [];
  page.on("console", (msg) => {
    if (msg.type() === "error") problems.push(`console error: ${msg.text()}`);
  });
  page.on("pageerror", (err) => problems.push(`page error: ${err.message}`));
  const sent = [];
  page.on("websocket", (ws) => {
    if (!ws.url().includes("/live/websocket")) return;
    ws.on("framesent", ({ payload }) => {
      const text = String(payload);
      // heartbeats are the socket's, not the page's
      if (!text.includes('"heartbeat"')) sent.push(text);
    });
  });
  const response = await page.goto(`${BASE_URL}${path}`);
  assert.equal(response.status(), 200);
  await page.waitForSelector("[data-phx-main].phx-connected");
  await page.evaluate(() => {
    window.__marker = 1;
  });
  return { page, problems, sent };
}

const visible = (page, selector) =>
  page.evaluate((s) => {
    const el = document.querySelector(s);
    return !!el && getComputedStyle(el).display !== "none";
  }, selector);

test("js: the modal opens and closes with no frame sent; confirm pushes one event", async () => {
  const { page, problems, sent } = await openRecording("/js");
  // The page is styled by the bundled stylesheet.
  const background = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  assert.equal(background, "rgb(246, 247, 251)");
  const before = sent.length;

  await page.click("#open-modal");
  await page.waitForFunction(() => getComputedStyle(document.querySelector("#modal")).display === "flex");
  // The transition ran to its end classes, and focus moved into the panel.
  await page.waitForFunction(() => document.querySelector("#modal").classList.length === 1);
  assert.equal(await page.evaluate(() => document.activeElement?.id), "cancel-modal");
  await page.click("#cancel-modal");
  await page.waitForFunction(() => getComputedStyle(document.querySelector("#modal")).display === "none");
  // Focus went back to the button that opened it (push_focus / pop_focus).
  await page.waitForFunction(() => document.activeElement?.id === "open-modal");

  // Escape (phx-window-keydown with phx-key) closes it too.
  await page.click("#open-modal");
  await page.waitForFunction(() => getComputedStyle(document.querySelector("#modal")).display === "flex");
  await page.keyboard.press("Escape");
  await page.waitForFunction(() => getComputedStyle(document.querySelector("#modal")).display === "none");

  // A short pause: anything the commands would have sent has been sent by now.
  await page.waitForTimeout(300);
  assert.deepEqual(sent.slice(before), [], "opening and closing the modal sends nothing");

  // Confirm: one event pushed, the modal closed by the same chain.
  await page.click("#open-modal");
  await page.waitForFunction(() => getComputedStyle(document.querySelector("#modal")).display === "flex");
  await page.click("#confirm-modal");
  await page.waitForFunction(() => document.querySelector("#confirmed").textContent.includes("Confirmed 1 times"));
  await page.waitForFunction(() => getComputedStyle(document.querySelector("#modal")).display === "none");
  const events = sent.slice(before).map((text) => JSON.parse(text));
  assert.equal(events.length, 1, `one frame: ${JSON.stringify(events)}`);
  assert.equal(events[0][3], "event");
  assert.equal(events[0][4].event, "confirm");
  // The server's patch did not undo what the commands did: the modal stays hidden.
  assert.equal(await visible(page, "#modal"), false);

  await assertNoReload(page);
  assertNoProblems(problems);
});

test("js: tabs and the dropdown switch in the browser, and survive a server patch", async () => {
  const { page, problems, sent } = await openRecording("/js");
  const before = sent.length;
  assert.equal(await visible(page, "#panel-overview"), true);
  assert.equal(await visible(page, "#panel-faq"), false);

  await page.click("#tab-faq");
  await page.waitForFunction(() => getComputedStyle(document.querySelector("#panel-faq")).display === "block");
  assert.equal(await visible(page, "#panel-overview"), false);
  await page.waitForFunction(() => document.querySelector("#tab-faq").classList.contains("active"));
  assert.equal(await page.evaluate(() => document.querySelector("#tab-overview").classList.contains("active")), false);
  assert.equal(await page.getAttribute("#tab-faq", "aria-selected"), "true");

  await page.click("#menu-button");
  await page.waitForFunction(() => getComputedStyle(document.querySelector("#menu")).display === "block");
  assert.equal(await page.getAttribute("#menu-button", "aria-expanded"), "true");
  // A click elsewhere closes it (phx-click-away).
  await page.click("h1");
  await page.waitForFunction(() => getComputedStyle(document.querySelector("#menu")).display === "none");
  assert.equal(await page.getAttribute("#menu-button", "aria-expanded"), "false");

  // A selector with both kinds of quotes survives the attribute's escaping.
  await page.click("#menu-button");
  await page.waitForFunction(() => getComputedStyle(document.querySelector("#menu")).display === "block");
  await page.click("#highlight-quoted");
  await page.waitForFunction(() => document.querySelector("#quoted").classList.contains("highlight"));
  await page.waitForFunction(() => getComputedStyle(document.querySelector("#menu")).display === "none");

  // A click on the backdrop closes the modal (phx-click-away runs the modal's data-cancel
  // commands with exec).
  await page.click("#open-modal");
  await page.waitForFunction(() => getComputedStyle(document.querySelector("#modal")).display === "flex");
  await page.mouse.click(5, 5);
  await page.waitForFunction(() => getComputedStyle(document.querySelector("#modal")).display === "none");

  await page.waitForTimeout(300);
  assert.deepEqual(sent.slice(before), [], "tabs, the dropdown and the modal send nothing");

  // A server patch (the hook's question re-renders the page) keeps the tab chosen.
  await page.click("#ask-button");
  await page.waitForFunction(() => document.querySelector("#answered").textContent.includes("Answered 1"));
  assert.equal(await visible(page, "#panel-faq"), true);
  assert.equal(await visible(page, "#panel-overview"), false);

  await assertNoReload(page);
  assertNoProblems(problems);
});

test("js: a hook receives the server's reply to its pushEvent", async () => {
  const { page, problems, sent } = await openRecording("/js");
  await page.click("#ask-button");
  await page.waitForFunction(() => document.querySelector("#ask").getAttribute("reply-square") === "144");
  assert.equal((await page.textContent("#answer")).trim(), "12² = 144");
  const asked = sent.map((text) => JSON.parse(text)).filter((frame) => frame[3] === "event");
  assert.equal(asked.length, 1);
  assert.deepEqual(asked[0][4].value, { n: 12 });
  assert.equal(asked[0][4].type, "hook");
  await assertNoReload(page);
  assertNoProblems(problems);
});
