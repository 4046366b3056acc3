// /cards: stateful live components in the browser. A like re-renders that card only; cards
// are added and removed; a card tells its parent (send_parent_info).

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

const likesAre = (page, expected) =>
  page.waitForFunction(
    (want) => [...document.querySelectorAll("section.card .likes")].map((el) => el.textContent).join(",") === want,
    expected.join(","),
  );

test("cards: components keep their own state and handle their own events", async () => {
  const { page, problems } = await openLiveView(browser, "/cards");
  await likesAre(page, ["0", "0", "0"]);
  // The client stamps every component root with its cid.
  assert.equal(await page.locator("section.card[data-phx-component]").count(), 3);

  await page.locator("section.card .like").nth(1).click();
  await likesAre(page, ["0", "1", "0"]);
  await page.locator("section.card .like").nth(1).click();
  await likesAre(page, ["0", "2", "0"]);

  await page.click("#add");
  await likesAre(page, ["0", "2", "0", "0"]);
  assert.equal(await page.locator("section.card h2").nth(3).textContent(), "Card 4");

  await page.locator('[data-card="1"] .remove').click();
  // The liked card keeps its state through the parent's re-render.
  await likesAre(page, ["2", "0", "0"]);

  await page.locator("section.card .star").nth(2).click();
  await page.waitForFunction(() => document.querySelector("#starred").textContent === "Starred: c4");

  await page.locator("section.card .like").nth(2).click();
  await likesAre(page, ["2", "0", "1"]);

  await assertNoReload(page);
  assertNoProblems(problems);
});
