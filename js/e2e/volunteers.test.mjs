// /volunteers: a form validated as you type (errors only for the inputs the user has used,
// every error after a submit), and new volunteers prepended live in every tab (pub/sub).

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

/** The texts of the field errors shown, as `input id: message`. */
async function shownErrors(page) {
  return page.$$eval("p.field-error", (nodes) =>
    nodes.map((node) => `${node.dataset.for}: ${node.textContent.trim()}`),
  );
}

/** Waits until the shown errors are exactly `expected`. */
async function waitForErrors(page, expected) {
  await page.waitForFunction(
    (want) =>
      JSON.stringify(
        Array.from(document.querySelectorAll("p.field-error")).map(
          (node) => `${node.dataset.for}: ${node.textContent.trim()}`,
        ),
      ) === JSON.stringify(want),
    expected,
  );
  assert.deepEqual(await shownErrors(page), expected);
}

test("volunteers: an invalid phone shows its own error only, and fixing it clears it", async () => {
  const { page, problems } = await openLiveView(browser, "/volunteers");
  assert.deepEqual(await shownErrors(page), [], "no error before any input");
  await page.fill("#volunteer_phone", "555-12");
  await waitForErrors(page, ["volunteer_phone: A phone number has 10 digits, like 555-123-4567"]);
  // The name and shift are empty too, but unused: their errors stay hidden.
  await page.fill("#volunteer_phone", "555-123-4567");
  await waitForErrors(page, []);
  // Leaving the name blank after using it shows the name's error.
  await page.fill("#volunteer_name", "A");
  await waitForErrors(page, ["volunteer_name: A name has at least 2 letters"]);
  await page.fill("#volunteer_name", "Ada");
  await waitForErrors(page, []);
  await assertNoReload(page);
  assertNoProblems(problems);
});

test("volunteers: submitting an empty form shows every required error", async () => {
  const { page, problems } = await openLiveView(browser, "/volunteers");
  await page.click("#signup-submit");
  await waitForErrors(page, [
    "volunteer_name: Please tell us your name",
    "volunteer_phone: Please give a phone number",
    "volunteer_shift: Please pick a shift",
  ]);
  // The button is usable again after the refused submit.
  assert.equal(await page.locator("#signup-submit").isDisabled(), false);
  assert.equal((await page.locator("#signup-submit").textContent()).trim(), "Sign up");
  await assertNoReload(page);
  assertNoProblems(problems);
});

test("volunteers: a valid sign-up is prepended, and appears in a second tab", async () => {
  const first = await openLiveView(browser, "/volunteers");
  const second = await openLiveView(browser, "/volunteers");
  const unique = Date.now().toString(36);
  const names = [`Grace ${unique}`, `Alan ${unique}`];
  for (const [index, name] of names.entries()) {
    await first.page.fill("#volunteer_name", name);
    await first.page.fill("#volunteer_phone", `(555) 010-00${index}${index}`);
    await first.page.selectOption("#volunteer_shift", index === 0 ? "morning" : "evening");
    await first.page.click("#signup-submit");
    for (const { page } of [first, second]) {
      await page.waitForFunction(
        (want) => document.querySelector("#volunteers li b")?.textContent === want,
        name,
      );
    }
  }
  for (const { page } of [first, second]) {
    const rows = await page.locator("#volunteers li").allTextContents();
    assert.ok(rows[0].startsWith(`${names[1]} · (555) 010-0011 · Evening`), rows[0]);
    assert.ok(rows[1].startsWith(`${names[0]} · (555) 010-0000 · Morning`), rows[1]);
  }
  // The form was emptied for the next volunteer, and thanked this one.
  assert.equal(await first.page.inputValue("#volunteer_name"), "");
  assert.match(await first.page.textContent("#flash-info"), new RegExp(`Thanks for signing up, ${names[1]}`));
  assert.deepEqual(await shownErrors(first.page), []);
  for (const { page, problems } of [first, second]) {
    await assertNoReload(page);
    assertNoProblems(problems);
  }
});
