"use strict";
// Checks the harness against the outputs recorded with lv-oracle (the
// reference tool in /work/shared/tools/lv-oracle), copied to examples/:
//
//   examples/NAME.jsonl              input
//   examples/NAME.html.out           stdout of --mode=html
//   examples/NAME.plain.out          stdout of --mode=plain
//   examples/NAME.json.out           stdout of --json
//   examples/malformed/NAME.{jsonl,err}   must fail with exit status 1 and a
//                                    message naming the same line (and JSON path)
//
// (The .dom.out/.raw.out recordings belong to lv-oracle modes this harness
// does not implement and are kept only for reference.) cases/ holds more
// malformed inputs whose .err is the start of our own message.

const test = require("node:test");
const assert = require("node:assert/strict");
const fs = require("node:fs");
const path = require("node:path");
const { spawnSync } = require("node:child_process");

const { run } = require("../lib/run");

const ORACLE = path.join(__dirname, "..", "oracle.js");
const EXAMPLES = path.join(__dirname, "examples");
const CASES = path.join(__dirname, "cases");
// the LiveView id lv-oracle used when recording
const VIEW_ID = "phx-F0xOracle";

// the CLI (a process per call: slow, jsdom takes a while to load)
function oracle(args, input) {
  return spawnSync(process.execPath, [ORACLE, ...args], { encoding: "utf8", input });
}

// the same run in-process: { stdout, error }
function harness(file, opts) {
  const { output, error } = run(fs.readFileSync(file, "utf8"), { viewId: VIEW_ID, ...opts });
  return { stdout: output.map((l) => `${l}\n`).join(""), error };
}

function recorded(dir) {
  return fs
    .readdirSync(dir)
    .map((file) => file.match(/^(.+)\.(html|plain|json)\.out$/))
    .filter(Boolean)
    .map(([file, base, mode]) => ({ file, base, mode }));
}

for (const { file, base, mode } of recorded(EXAMPLES)) {
  test(`${base} (${mode}) matches lv-oracle`, () => {
    const opts = mode === "json" ? { json: true } : { mode };
    const res = harness(path.join(EXAMPLES, `${base}.jsonl`), opts);
    assert.equal(res.error, null);
    assert.equal(res.stdout, fs.readFileSync(path.join(EXAMPLES, file), "utf8"));
  });
}

const CLIENT_ATTRS = / data-phx-(?:id|component|view)="[^"]*"/g;

for (const file of fs.readdirSync(EXAMPLES).filter((f) => f.endsWith(".jsonl"))) {
  const base = file.slice(0, -".jsonl".length);
  test(`${base}: plain is html without the client's attributes`, () => {
    const input = fs.readFileSync(path.join(EXAMPLES, file), "utf8");
    const html = harness(path.join(EXAMPLES, file), { mode: "html" });
    const plain = harness(path.join(EXAMPLES, file), { mode: "plain" });
    assert.equal(html.error, null);
    assert.equal(plain.error, null);
    const htmlLines = html.stdout.trimEnd().split("\n").map((l) => JSON.parse(l));
    const plainLines = plain.stdout.trimEnd().split("\n").map((l) => JSON.parse(l));
    assert.equal(plainLines.length, input.split("\n").filter((l) => l.trim() !== "").length);
    assert.deepEqual(plainLines, htmlLines.map((h) => h.replace(CLIENT_ATTRS, "")));
    for (const h of plainLines) assert.doesNotMatch(h, /undefined|data-phx-/);
  });
}

function malformed(dir, expectedFrom) {
  for (const file of fs.readdirSync(dir).filter((f) => f.endsWith(".err"))) {
    const base = file.slice(0, -".err".length);
    test(`${path.basename(dir)}/${base} is rejected`, () => {
      const expected = fs.readFileSync(path.join(dir, file), "utf8").trim();
      const input = path.join(dir, `${base}.jsonl`);
      for (const mode of ["html", "plain"]) {
        const res = harness(input, { mode });
        assert.notEqual(res.error, null, "must be rejected");
        const message = res.error;
        assert.equal(message.split("\n").length, 1, "one-line message");
        assert.ok(message.startsWith(expectedFrom(expected)), `expected "${expected}", got "${message}"`);
        // every line before the failing one was printed
        const failing = Number(message.match(/^line (\d+)/)[1]);
        const before = fs
          .readFileSync(input, "utf8")
          .split("\n")
          .slice(0, failing - 1)
          .filter((l) => l.trim() !== "").length;
        assert.equal(res.stdout === "" ? 0 : res.stdout.trimEnd().split("\n").length, before);
      }
    });
  }
}

// lv-oracle's words differ from ours; the location ("line N, at PATH:") must not
malformed(path.join(EXAMPLES, "malformed"), (err) => err.match(/^lv-oracle: (line \d+(?:, at [^:]+)?:)/)[1]);
malformed(CASES, (err) => err);

test("CLI: stdin in, one JSON string per line out", () => {
  const input = fs.readFileSync(path.join(EXAMPLES, "01-counter.jsonl"), "utf8");
  const res = oracle(["--mode=plain", "-"], input);
  assert.equal(res.stderr, "");
  assert.equal(res.status, 0);
  assert.equal(res.stdout, fs.readFileSync(path.join(EXAMPLES, "01-counter.html.out"), "utf8"));
  // no file argument reads stdin too
  assert.equal(oracle(["--mode=plain"], input).stdout, res.stdout);
});

test("CLI: malformed input exits with 1, names the line, keeps earlier output", () => {
  const res = oracle([path.join(EXAMPLES, "malformed", "move-without-km.jsonl")]);
  assert.equal(res.status, 1);
  assert.equal(res.stdout, '"<ul><li>a</li><li>b</li></ul>"\n');
  assert.match(res.stderr, /^oracle: line 2, at 0\.k: entries 0, 1 are moves, but "km": true is missing/);
});

test("usage errors exit with 2", () => {
  assert.equal(oracle(["--mode=dom"], "").status, 2);
  assert.equal(oracle(["--bogus"], "").status, 2);
});

test("empty input is an error", () => {
  assert.match(run("\n").error, /no input/);
});

test("--version names the pinned client", () => {
  const res = oracle(["--version"]);
  assert.equal(res.status, 0);
  assert.deepEqual(JSON.parse(res.stdout), { phoenix_live_view: "1.2.12", phoenix: "1.8.16", jsdom: "29.1.1" });
});
