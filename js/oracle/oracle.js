#!/usr/bin/env node
"use strict";
// Conformance harness: merges a LiveView join render and its diffs with the
// real phoenix_live_view client (in jsdom) and prints the HTML the client
// holds after every line. See README.md.

const fs = require("fs");
const { run } = require("./lib/run");
const { clientVersions } = require("./lib/client");

const HELP = `usage: node oracle.js [options] [FILE | -]

Reads JSON lines (FILE, or stdin when FILE is "-" or absent): line 1 is the
join "rendered", every later line one diff. For every input line prints one
JSON string: the HTML of the LiveView's content the client holds afterwards.

  --mode=plain     without the attributes the client injects into root
                   elements: equals the server's own full render of the state
  --mode=html      (default) with them (data-phx-id, data-phx-component,
                   data-phx-view), as the client renders a fresh join
  --json           print {"line","html","title","events","reply"} objects
  --view-id=ID     LiveView id used in client attributes (default phx-oracle)
  --lenient        unknown keys only warn
  --no-validate    skip the structural checks (client errors still fail)
  --version        print the versions of the client packages
  -h, --help       this text

exit status: 0 ok; 1 malformed input or client failure (stderr names the
line); 2 usage error`;

class UsageError extends Error {}

function parseArgs(argv) {
  const opts = { mode: "html", json: false, viewId: "phx-oracle", lenient: false, validate: true, file: null };
  for (const arg of argv) {
    if (arg === "-h" || arg === "--help") opts.help = true;
    else if (arg === "--version") opts.version = true;
    else if (arg === "--json") opts.json = true;
    else if (arg === "--lenient") opts.lenient = true;
    else if (arg === "--no-validate") opts.validate = false;
    else if (arg.startsWith("--mode=")) {
      opts.mode = arg.slice(7);
      if (opts.mode !== "html" && opts.mode !== "plain") throw new UsageError(`unknown mode "${opts.mode}" (html or plain)`);
    } else if (arg.startsWith("--view-id=")) {
      opts.viewId = arg.slice(10);
      if (!/^[A-Za-z][A-Za-z0-9_-]*$/.test(opts.viewId)) throw new UsageError("--view-id must be a plain HTML id");
    } else if (arg === "-" || !arg.startsWith("-")) {
      if (opts.file !== null) throw new UsageError("at most one input file");
      opts.file = arg;
    } else throw new UsageError(`unknown option ${arg}`);
  }
  return opts;
}

function main() {
  let opts;
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`oracle: ${e.message}\n\n${HELP}\n`);
    return 2;
  }
  if (opts.help) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  if (opts.version) {
    process.stdout.write(`${JSON.stringify(clientVersions())}\n`);
    return 0;
  }
  let text;
  try {
    text = fs.readFileSync(opts.file === null || opts.file === "-" ? 0 : opts.file, "utf8");
  } catch (e) {
    process.stderr.write(`oracle: cannot read input: ${e.message}\n`);
    return 2;
  }
  const warn = (message) => process.stderr.write(`oracle: warning: ${message}\n`);
  let result;
  try {
    result = run(text, { mode: opts.mode, json: opts.json, viewId: opts.viewId, lenient: opts.lenient, validate: opts.validate, warn });
  } catch (e) {
    process.stderr.write(`oracle: internal error: ${e && e.stack ? e.stack : e}\n`);
    return 1;
  }
  if (result.output.length > 0) process.stdout.write(`${result.output.join("\n")}\n`);
  if (result.error !== null) {
    process.stderr.write(`oracle: ${result.error}\n`);
    return 1;
  }
  return 0;
}

process.exitCode = main();
// Leave once stdout has drained even if something still holds the event loop.
setTimeout(() => process.exit(), 2000).unref();
