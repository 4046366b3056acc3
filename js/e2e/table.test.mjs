// /table: an event on one row of a 100-row table changes that row only.

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

/** { id: value } for every row of the table, read from the DOM. */
function readValues(page) {
  return page.evaluate(() => {
    const out = {};
    for (const row of document.querySelectorAll('[data-phx-main] table tr[id^="row-"]')) {
      out[row.id.slice("row-".length)] = row.querySelector("td.value").textContent.trim();
    }
    return out;
  });
}

test("table: bumping row 5 twice changes row 5 only", async () => {
  const { page, problems } = await openLiveView(browser, "/table");
  const initial = await readValues(page);
  assert.deepEqual(
    Object.keys(initial).map(Number).sort((a, b) => a - b),
    Array.from({ length: 100 }, (_, i) => i + 1),
    "rows row-1 .. row-100",
  );
  const start = Number(initial["5"]);
  assert.ok(Number.isFinite(start), `row 5 value ${JSON.stringify(initial["5"])} is a number`);

  const bump = page.locator('#row-5 button[phx-click="bump"][phx-value-id="5"]');
  const valueIs = (n) =>
    page.waitForFunction(
      (text) => document.querySelector("#row-5 td.value")?.textContent.trim() === text,
      String(n),
    );
  await bump.click();
  await valueIs(start + 1);
  await bump.click();
  await valueIs(start + 2);

  const final = await readValues(page);
  assert.deepEqual(final, { ...initial, 5: String(start + 2) });
  await assertNoReload(page);
  assertNoProblems(problems);
});
