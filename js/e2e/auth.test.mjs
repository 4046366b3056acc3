// The users app: /login (phx-trigger-action posting to the app's own POST /login, which
// sets a signed cookie), /account guarded by an on_mount hook, /admin in a second live
// session (navigation there is a full page load), logout.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { launch, BASE_URL, TIMEOUT_MS, assertNoProblems } from "./support.mjs";

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

async function freshPage() {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.setDefaultTimeout(TIMEOUT_MS);
  const problems = [];
  page.on("console", (msg) => {
    if (msg.type() !== "error") return;
    const where = msg.location().url || "";
    if (/\/favicon\.ico$/.test(where)) return;
    problems.push(`console error: ${msg.text()}${where ? ` (${where})` : ""}`);
  });
  page.on("pageerror", (err) => problems.push(`page error: ${err.message}`));
  return { page, problems };
}

const connected = (page) => page.waitForSelector("[data-phx-main].phx-connected");

test("users: guard, login through the form, a second live session, logout", async () => {
  const { page, problems } = await freshPage();

  // Anonymous /account lands on /login (the on_mount guard's redirect).
  await page.goto(`${BASE_URL}/account`);
  await page.waitForURL((url) => url.pathname === "/login");
  await connected(page);

  // A wrong password: the view says so, nothing is posted.
  await page.fill("#username", "alice");
  await page.fill("#password", "nope");
  await page.click("#login-button");
  await page.waitForSelector("#login-error");
  assert.equal(new URL(page.url()).pathname, "/login");

  // The right one: phx-trigger-action posts the form to POST /login, which sets the cookie
  // and redirects to /account, which shows the user's name and the browser's time zone
  // (connect params).
  await page.fill("#password", "wonderland");
  await page.click("#login-button");
  await page.waitForURL((url) => url.pathname === "/account");
  await connected(page);
  assert.equal((await page.textContent("#account-name")).trim(), "alice");
  const zone = await page.evaluate(() => Intl.DateTimeFormat().resolvedOptions().timeZone);
  await page.waitForFunction(
    (zone) => document.querySelector("#timezone")?.textContent.includes(zone),
    zone,
  );
  const cookies = await page.context().cookies();
  const cookie = cookies.find((c) => c.name === "user");
  assert.ok(cookie && cookie.httpOnly, "an HttpOnly session cookie");

  // /admin is another live session: the navigate link loads the page over HTTP.
  await page.evaluate(() => {
    window.__marker = 1;
  });
  await page.click("#to-admin");
  await page.waitForURL((url) => url.pathname === "/admin");
  await page.waitForSelector("[data-phx-main].phx-connected #admin-title");
  assert.equal(await page.evaluate(() => window.__marker), undefined, "a full page load");
  assert.ok(await page.$("#admin-banner"), "the admin live session's root layout");

  // And back again: a full page load too.
  await page.evaluate(() => {
    window.__marker = 2;
  });
  await page.click("#to-account");
  await page.waitForURL((url) => url.pathname === "/account");
  await page.waitForSelector("[data-phx-main].phx-connected #account-name");
  assert.equal(await page.evaluate(() => window.__marker), undefined, "a full page load");

  // Logout ends access: the cookie is gone, /account lands on /login again.
  await page.click("#logout");
  await page.waitForURL((url) => url.pathname === "/login");
  await connected(page);
  assert.equal((await page.context().cookies()).find((c) => c.name === "user"), undefined);
  await page.goto(`${BASE_URL}/account`);
  await page.waitForURL((url) => url.pathname === "/login");
  assertNoProblems(problems);
});

test("users: bob is not an administrator (403 page)", async () => {
  const { page } = await freshPage();
  await page.goto(`${BASE_URL}/login`);
  await connected(page);
  await page.fill("#username", "bob");
  await page.fill("#password", "builder");
  await page.click("#login-button");
  await page.waitForURL((url) => url.pathname === "/account");
  const response = await page.goto(`${BASE_URL}/admin`);
  assert.equal(response.status(), 403);
  assert.match(await page.textContent("body"), /This page is for administrators\./);
});
