// Shared setup of the browser tests: launches headless chromium through
// playwright-core and collects console errors and page errors.
//
// BASE_URL   where the example server listens (set by `cargo xtask e2e`)
// CHROMIUM   chromium executable (default /usr/bin/chromium)

import { existsSync } from "node:fs";
import assert from "node:assert/strict";
import { chromium } from "playwright-core";

export const BASE_URL = (process.env.BASE_URL || "http://127.0.0.1:4000").replace(/\/+$/, "");
const EXECUTABLE = process.env.CHROMIUM || "/usr/bin/chromium";

// how long to wait for the page to connect / for a reply to be patched in
export const TIMEOUT_MS = 10_000;

export async function launch() {
  if (!existsSync(EXECUTABLE)) {
    throw new Error(`chromium not found at ${EXECUTABLE}: install it (apt-get install chromium) or set CHROMIUM`);
  }
  return chromium.launch({
    executablePath: EXECUTABLE,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--no-first-run",
      "--disable-sync",
      "--disable-quic",
    ],
  });
}

/**
 * Opens `path` of the example server in a fresh page, waits until its main
 * LiveView has joined and marks the window (see assertNoReload). Returns
 * `{ page, problems }`, `problems` collecting console errors and uncaught page
 * errors.
 */
export async function openLiveView(browser, path) {
  return openLiveViewAt(browser, BASE_URL, path);
}

/** Like openLiveView, on the server at `baseUrl` (a node of several). */
export async function openLiveViewAt(browser, baseUrl, path) {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.setDefaultTimeout(TIMEOUT_MS);
  const problems = [];
  page.on("console", (msg) => {
    if (msg.type() !== "error") return;
    // chromium asks for /favicon.ico on its own; the examples need not have one
    const where = msg.location().url || "";
    if (/\/favicon\.ico$/.test(where) && msg.text().startsWith("Failed to load resource")) return;
    problems.push(`console error: ${msg.text()}${where ? ` (${where})` : ""}`);
  });
  page.on("pageerror", (err) => problems.push(`page error: ${err.message}`));
  const response = await page.goto(`${baseUrl}${path}`);
  assert.ok(response, `no response for ${path}`);
  assert.equal(response.status(), 200, `GET ${path}`);
  await page.waitForSelector("[data-phx-main].phx-connected");
  await page.evaluate(() => {
    window.__marker = 1;
  });
  return { page, problems };
}

/** Fails if the page was reloaded since openLiveView (the marker is gone). */
export async function assertNoReload(page) {
  assert.equal(await page.evaluate(() => window.__marker), 1, "the page was reloaded");
}

/** Fails if any console error or page error was collected. */
export function assertNoProblems(problems) {
  assert.deepEqual(problems, [], "the browser reported errors");
}
