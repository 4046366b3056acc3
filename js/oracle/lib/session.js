"use strict";
// Drives the client's Rendered class the way View does (view.ts onJoin and
// update):
//
//   join    Rendered.extract(rendered); new Rendered(viewId, diff); toString()
//   update  Rendered.extract(diff); mergeDiff(diff); toString(cids of the diff)
//           (no render at all when the extracted diff is empty)
//
// The client's own render mutates its tree (it resolves templates and drops
// stream entries once rendered), so it is performed on the live tree exactly
// like in the browser. What is reported is a copy of the merged tree rendered
// from scratch, as a fresh join would: with the client's root attributes
// (mode "html") or without them (mode "plain", the server's dead render).

const { Client } = require("./client");
const { HarnessError } = require("./errors");
const { payloadOf } = require("./input");
const { DiffCheck, checkTree } = require("./check");

// bookkeeping the client stores inside the tree
const CLIENT_KEYS = ["magicId", "newRender", "reset"];

function stripClientKeys(value) {
  if (Array.isArray(value)) {
    for (const item of value) stripClientKeys(item);
  } else if (value !== null && typeof value === "object") {
    for (const key of CLIENT_KEYS) delete value[key];
    for (const key of Object.keys(value)) stripClientKeys(value[key]);
  }
}

class Session {
  /**
   * viewId   - id of the LiveView container (used in data-phx-id / data-phx-view)
   * validate - run the structural checks (default true)
   * lenient  - unknown keys only warn
   * warn     - function(message)
   */
  constructor({ viewId = "phx-oracle", validate = true, lenient = false, warn = () => {} } = {}) {
    this.viewId = viewId;
    this.validate = validate;
    this.lenient = lenient;
    this.warn = warn;
    this.errors = [];
    this.client = new Client({
      onConsole: (level, text) => {
        if (level === "error" || level === "jsdomError") this.warn(`client console.${level}: ${text}`);
      },
      onDiagnostic: (detail) => {
        if (detail.level === "error") this.errors.push(detail);
      },
    });
    const { RenderingBuffer } = this.client;
    // Renders like the client but leaves root elements as the server sent
    // them: modifyRoot still runs (and still rejects a root that is not an
    // element), it just adds no attributes.
    this.PlainBuffer = class PlainBuffer extends RenderingBuffer {
      endRoot(_attrs, _clearInnerHTML) {
        super.endRoot({}, false);
      }
    };
    this.rendered = null;
    this.steps = 0;
  }

  close() {
    this.client.close();
  }

  knownCids() {
    const c = this.rendered ? this.rendered.get().c : null;
    return new Set(Object.keys(c || {}).map(Number));
  }

  /** Runs `fn`, turning client exceptions and error diagnostics into HarnessErrors. */
  inClient(line, fn) {
    this.errors = [];
    let result;
    try {
      result = fn();
    } catch (e) {
      if (e instanceof HarnessError) throw e;
      throw new HarnessError(`the client failed: ${e && e.message ? e.message : String(e)}`, { line });
    }
    if (this.errors.length > 0) {
      const { code, message } = this.errors[0];
      throw new HarnessError(`the client reported ${code}: ${message}`, { line });
    }
    return result;
  }

  /** HTML of `tree` as a fresh join renders it. */
  render(tree, plain) {
    const copy = this.client.copy(tree);
    stripClientKeys(copy);
    const Buffer = plain ? this.PlainBuffer : this.client.RenderingBuffer;
    const fresh = new this.client.Rendered(this.viewId, copy, () => Buffer);
    return fresh.toString(null).buffer;
  }

  /**
   * Feeds one input line `{ line, text }`. Returns
   * `{ line, html, plain, title, events, reply }`.
   */
  step({ line, text }) {
    const isJoin = this.steps === 0;
    let value;
    try {
      value = this.client.parse(text);
    } catch (e) {
      throw new HarnessError(`invalid JSON: ${e.message}`, { line });
    }
    const payload = payloadOf(value, line, isJoin);
    const { Rendered } = this.client;
    const { diff, title, reply, events } = Rendered.extract(payload);
    if (this.validate) {
      const check = new DiffCheck({
        line,
        isJoin,
        knownCids: isJoin ? new Set() : this.knownCids(),
        lenient: this.lenient,
        warn: this.warn,
      });
      check.extracted({ title, events });
      check.root(diff);
    }
    const merged = this.inClient(line, () => {
      let snapshot;
      if (isJoin) {
        this.rendered = new Rendered(this.viewId, diff);
        if (this.validate) checkTree(this.rendered.get(), line);
        snapshot = this.client.copy(this.rendered.get());
        this.rendered.toString(null);
      } else {
        this.rendered.mergeDiff(diff);
        if (this.validate) checkTree(this.rendered.get(), line);
        snapshot = this.client.copy(this.rendered.get());
        if (Object.keys(diff).length > 0) this.rendered.toString(this.rendered.componentCIDs(diff));
      }
      return snapshot;
    });
    this.steps++;
    return this.inClient(line, () => ({
      line,
      html: this.render(merged, false),
      plain: this.render(merged, true),
      title,
      events,
      // the client drops a join's top-level "r"; on updates it is the event reply
      reply: isJoin ? null : reply,
    }));
  }
}

module.exports = { Session };
