// /books: create, edit and delete with validation; a number, a checkbox, a multi-select and
// a nested list of chapters (added and removed with Phoenix 1.2's sort/drop params) decode
// into typed structs on the server. The form bodies the real client sends are compared with
// the fixtures the Rust decoder's unit tests use (liveview-core/tests/data/client_forms.json).

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { launch, BASE_URL, TIMEOUT_MS, assertNoReload, assertNoProblems } from "./support.mjs";

const FIXTURES = JSON.parse(
  readFileSync(new URL("../../liveview-core/tests/data/client_forms.json", import.meta.url), "utf8"),
);

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

/** Opens /books, recording the form events the client sends (`{event, value, meta}`). */
async function openBooks() {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.setDefaultTimeout(TIMEOUT_MS);
  const problems = [];
  const sent = [];
  page.on("console", (msg) => {
    if (msg.type() === "error" && !/favicon/.test(msg.location().url || "")) problems.push(msg.text());
  });
  page.on("pageerror", (err) => problems.push(`page error: ${err.message}`));
  page.on("websocket", (ws) =>
    ws.on("framesent", ({ payload }) => {
      if (typeof payload !== "string") return;
      const [, , , kind, body] = JSON.parse(payload);
      if (kind === "event" && body.type === "form") sent.push(body);
    }),
  );
  await page.goto(`${BASE_URL}/books`);
  await page.waitForSelector("[data-phx-main].phx-connected");
  await page.evaluate(() => {
    window.__marker = 1;
  });
  return { page, problems, sent };
}

/** Waits for the next reply to be patched in after `action`. */
async function settled(page) {
  await page.waitForFunction(() => !document.querySelector(".phx-change-loading, .phx-submit-loading"));
}

test("books: create with a number, a checkbox, a multi-select and nested chapters", async () => {
  const { page, problems, sent } = await openBooks();
  await page.click("#new-book");
  await page.waitForSelector("#book-form");
  // An empty submit shows every required error.
  await page.click("#save-book");
  await page.waitForSelector("p.field-error[data-for=book_year]");
  assert.deepEqual(await page.locator("p.field-error").allTextContents(), [
    "Please give the title",
    "Please give the author",
    "Please give the year",
  ]);
  const title = `Dune ${Date.now().toString(36)}`;
  await page.fill("#book_title", title);
  await page.fill("#book_author", "Frank Herbert");
  await page.fill("#book_year", "1200");
  await page.waitForFunction(() => document.querySelector("p.field-error[data-for=book_year]")?.textContent === "A year between 1450 and 2100");
  await page.fill("#book_year", "1965");
  await page.check("#book_available");
  await page.selectOption("#book_genres", ["fiction", "science"]);
  await page.click("#add-chapter");
  await page.waitForSelector("#book_chapters_0_title");
  await page.click("#add-chapter");
  await page.waitForSelector("#book_chapters_1_title");
  await page.click("#add-chapter");
  await page.waitForSelector("#book_chapters_2_title");
  await page.fill("#book_chapters_0_title", "Unused");
  await page.fill("#book_chapters_1_title", "Arrakis");
  await page.fill("#book_chapters_1_pages", "42");
  await page.fill("#book_chapters_2_title", "Muad'Dib");
  await settled(page);
  // Remove the first chapter: the others move up.
  await page.click("#book-form .chapter:first-of-type .remove-chapter");
  await page.waitForFunction(() => document.querySelectorAll("#chapters .chapter").length === 2);
  assert.equal(await page.inputValue("#book_chapters_0_title"), "Arrakis");
  assert.equal(await page.inputValue("#book_chapters_0_pages"), "42");
  assert.equal(await page.inputValue("#book_chapters_1_title"), "Muad'Dib");
  await page.click("#save-book");
  const row = page.locator("#books tr", { hasText: title });
  await row.waitFor();
  assert.equal(await row.locator(".author").textContent(), "Frank Herbert");
  assert.equal(await row.locator(".year").textContent(), "1965");
  assert.equal(await row.locator(".available").textContent(), "yes");
  assert.equal(await row.locator(".genres").textContent(), "fiction, science");
  assert.equal(await row.locator(".chapters").textContent(), "Arrakis (42 p.); Muad'Dib");
  assert.equal(await page.locator("#book-form").count(), 0);

  // The bodies the real client sent are the fixtures the decoder's unit tests decode.
  // The bodies the real client sent are the fixtures the decoder's unit tests decode
  // (liveview-core/tests/client_forms.rs), the title aside (it is unique per run).
  const clean = (body) => body.replace(encodeURIComponent(title).replace(/%20/g, "+"), "TITLE");
  const captured = {
    books_save: sent.filter((body) => body.event === "save").at(-1),
    books_drop: sent.find((body) => body.meta._target === "book[chapters_drop][]"),
    books_add_row: sent.filter((body) => body.meta._target === "book[chapters_sort][]")[1],
    books_row_typed: sent.find((body) => body.meta._target === "book[chapters][1][title]"),
  };
  for (const fixture of FIXTURES) {
    const body = captured[fixture.name];
    assert.ok(body, `no ${fixture.name} event was sent`);
    assert.equal(body.event, fixture.event, fixture.name);
    assert.equal(body.meta._target, fixture.target ?? undefined, fixture.name);
    assert.equal(clean(body.value), fixture.body, fixture.name);
  }
  await assertNoReload(page);
  assertNoProblems(problems);
});

test("books: edit and delete", async () => {
  const { page, problems } = await openBooks();
  const title = `Emma ${Date.now().toString(36)}`;
  await page.click("#new-book");
  await page.fill("#book_title", title);
  await page.fill("#book_author", "Jane Austen");
  await page.fill("#book_year", "1815");
  await page.click("#save-book");
  const row = page.locator("#books tr", { hasText: title });
  await row.waitFor();
  assert.equal(await row.locator(".available").textContent(), "no");

  await row.locator("button.edit").click();
  await page.waitForSelector("#book-form");
  assert.equal(await page.inputValue("#book_title"), title);
  assert.equal(await page.inputValue("#book_year"), "1815");
  assert.equal(await page.isChecked("#book_available"), false);
  await page.fill("#book_author", "");
  await page.waitForFunction(() => document.querySelector("p.field-error[data-for=book_author]")?.textContent === "Please give the author");
  await page.fill("#book_author", "J. Austen");
  await page.check("#book_available");
  await page.selectOption("#book_genres", ["fiction"]);
  await page.click("#save-book");
  await page.waitForFunction(() => !document.querySelector("#book-form"));
  assert.equal(await row.locator(".author").textContent(), "J. Austen");
  assert.equal(await row.locator(".available").textContent(), "yes");
  assert.equal(await row.locator(".genres").textContent(), "fiction");

  await row.locator("button.delete").click();
  await row.waitFor({ state: "detached" });
  assert.match(await page.textContent("#flash-info"), new RegExp(`Deleted “${title}”`));
  await assertNoReload(page);
  assertNoProblems(problems);
});
