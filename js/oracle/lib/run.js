"use strict";
// One harness run over a whole input text; shared by the CLI and the tests.

const { Session } = require("./session");
const { HarnessError } = require("./errors");
const { inputLines } = require("./input");

/**
 * Feeds `text` (JSON lines) through a fresh session and returns
 * `{ output, error }`: `output` holds one printed line per input line that
 * was processed (without newline), `error` is null or the message of the
 * HarnessError that stopped the run. Other exceptions propagate.
 *
 * opts: mode ("html" | "plain"), json, viewId, lenient, validate, warn
 */
function run(text, { mode = "html", json = false, viewId, lenient = false, validate = true, warn = () => {} } = {}) {
  const output = [];
  let session = null;
  try {
    const lines = inputLines(text);
    if (lines.length === 0) throw new HarnessError("no input (line 1 must be the join rendered)");
    session = new Session({ viewId, validate, lenient, warn });
    for (const line of lines) {
      const result = session.step(line);
      const html = mode === "plain" ? result.plain : result.html;
      let out = html;
      if (json) {
        out = { line: result.line, html };
        if (result.title !== undefined) out.title = result.title;
        if (result.events.length > 0) out.events = result.events;
        if (result.reply !== null && result.reply !== undefined) out.reply = result.reply;
      }
      output.push(JSON.stringify(out));
    }
    return { output, error: null };
  } catch (e) {
    if (e instanceof HarnessError) return { output, error: e.message };
    throw e;
  } finally {
    if (session) session.close();
  }
}

module.exports = { run };
