// /feed: a stream. The server keeps no posts; the page accumulates them in a
// phx-update="stream" container: append, prepend with a limit, update in place, delete, reset.

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

const postsAre = (page, expected) =>
  page.waitForFunction(
    (want) => [...document.querySelectorAll("#posts > li .text")].map((el) => el.textContent).join("|") === want,
    expected.join("|"),
  );

test("feed: stream operations patch the page while the server forgets the posts", async () => {
  const { page, problems } = await openLiveView(browser, "/feed");
  await postsAre(page, ["hello #1", "world #2"]);

  await page.click("#append");
  await postsAre(page, ["hello #1", "world #2", "appended #3"]);

  await page.locator("#posts-2 .edit").click();
  await postsAre(page, ["hello #1", "edited #2", "appended #3"]);

  await page.locator("#posts-1 .delete").click();
  await postsAre(page, ["edited #2", "appended #3"]);

  for (const id of [4, 5, 6, 7]) {
    await page.click("#prepend");
    await page.waitForSelector(`#posts-${id}`);
  }
  // The limit keeps the first 5 items.
  await postsAre(page, ["prepended #7", "prepended #6", "prepended #5", "prepended #4", "edited #2"]);

  await page.click("#reset");
  await postsAre(page, ["after reset #8"]);

  await assertNoReload(page);
  assertNoProblems(problems);
});
