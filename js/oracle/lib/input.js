"use strict";
// Input lines and the envelopes they may come in.
//
// line 1, the join, is one of
//   {"s": [...], "0": ...}                         the "rendered" object
//   {"rendered": {...}, "liveview_version": ...}   the phx_join reply response
//   ["4","4","lv:ID","phx_reply",{"status":"ok","response":{...}}]   a V2 frame
// every later line is one of
//   {"0": ..., "c": {...}}                         a "diff" push payload
//   {"diff": {...}} or {}                          an event reply response
//   ["4",null,"lv:ID","diff",{...}]                a V2 "diff" push frame
//   ["4","7","lv:ID","phx_reply",{"status":"ok","response":{...}}]

const { HarnessError } = require("./errors");

const isObject = (v) => v !== null && typeof v === "object" && !Array.isArray(v);

// keys that make an object a diff in its own right rather than a reply envelope
const DIFF_KEY = /^(0|[1-9][0-9]*|s|c|p|t|e|r|k)$/;

/** Non-blank lines of `text` as `{ line, text }` with 1-based file line numbers. */
function inputLines(text) {
  if (text.startsWith("\ufeff")) text = text.slice(1);
  const out = [];
  text.split("\n").forEach((raw, i) => {
    const content = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    if (content.trim() !== "") out.push({ line: i + 1, text: content });
  });
  return out;
}

function fromFrame(value, line) {
  if (value.length !== 5 || typeof value[3] !== "string") {
    throw new HarnessError("an array must be a V2 frame [join_ref, ref, topic, event, payload]", { line });
  }
  const event = value[3];
  const payload = value[4];
  if (event === "diff") return payload;
  if (event === "phx_reply") {
    if (!isObject(payload) || payload.status !== "ok") {
      throw new HarnessError(
        `only "ok" replies carry renders, this one has status ${JSON.stringify(isObject(payload) ? payload.status : payload)}`,
        { line },
      );
    }
    return payload.response === undefined ? {} : payload.response;
  }
  throw new HarnessError(`frame event ${JSON.stringify(event)} carries no render (expected "diff" or "phx_reply")`, { line });
}

/** The rendered/diff object of one parsed line. */
function payloadOf(value, line, isJoin) {
  if (Array.isArray(value)) value = fromFrame(value, line);
  if (!isObject(value)) throw new HarnessError(`expected a JSON object, got ${JSON.stringify(value)}`, { line });
  const keys = Object.keys(value);
  if (isJoin) {
    if ("rendered" in value && !keys.some((k) => DIFF_KEY.test(k))) {
      if (!isObject(value.rendered)) throw new HarnessError(`"rendered" must be an object`, { line, at: "rendered" });
      return value.rendered;
    }
    return value;
  }
  if ("diff" in value && !keys.some((k) => DIFF_KEY.test(k))) {
    if (!isObject(value.diff)) throw new HarnessError(`"diff" must be an object`, { line, at: "diff" });
    return value.diff;
  }
  return value;
}

module.exports = { inputLines, payloadOf, isObject };
