"use strict";
// Structural checks derived from how the phoenix_live_view 1.2 client merges
// and renders (rendered.js: mergeDiff, mutableMerge, mergeKeyed,
// cachedFindComponent, toOutputBuffer, comprehensionToBuffer). The client
// itself is very forgiving: a missing dynamic renders as the text
// "undefined", null as "null", and a bad move throws a bare TypeError. These
// checks turn such cases into errors that name the input line and JSON path.
//
// Objects come from the jsdom realm: use Array.isArray, never instanceof.

const { HarnessError } = require("./errors");
const { isObject } = require("./input");

const INT_KEY = /^(0|[1-9][0-9]*)$/;
const isIndex = (v) => Number.isInteger(v) && v >= 0;
const has = (obj, key) => Object.prototype.hasOwnProperty.call(obj, key);
const sub = (at, key) => (at === "" ? String(key) : `${at}.${key}`);

const LEGACY_D =
  '"d" is the comprehension format of LiveView 1.0 and older; the 1.2 client only ' +
  'renders keyed comprehensions {"s": ..., "k": {"0": {...}, ..., "kc": N}}';

/** Checks one incoming rendered/diff (top-level "r", "e", "t" already extracted). */
class DiffCheck {
  /**
   * line        - input line number
   * isJoin      - the join rendered (must carry the root statics)
   * knownCids   - Set of component ids the client holds before this merge
   * lenient     - unknown keys only warn
   * warn        - function(message)
   */
  constructor({ line, isJoin, knownCids, lenient = false, warn = () => {} }) {
    this.line = line;
    this.isJoin = isJoin;
    this.knownCids = knownCids;
    this.lenient = lenient;
    this.warn = warn;
    this.rootResent = false;
  }

  fail(at, message) {
    throw new HarnessError(message, { line: this.line, at });
  }

  extracted({ title, events }) {
    if (title !== undefined && typeof title !== "string") this.fail("t", `"t" (page title) must be a string`);
    if (events === undefined) return;
    if (!Array.isArray(events)) this.fail("e", `"e" (pushed events) must be an array`);
    events.forEach((ev, i) => {
      const ok =
        Array.isArray(ev) &&
        typeof ev[0] === "string" &&
        isObject(ev[1]) &&
        (ev.length === 2 || (ev.length === 3 && ev[2] === true));
      if (!ok) this.fail(sub("e", i), `a pushed event must be [name, payload_object] (optionally followed by true)`);
    });
  }

  root(diff) {
    if (!isObject(diff)) this.fail("", "expected a JSON object");
    if (this.isJoin && !has(diff, "s")) this.fail("", `the join rendered has no root statics "s"`);
    if (has(diff, "k")) this.fail("k", "the root of a LiveView cannot be a comprehension");
    // re-sending the root statics replaces the whole tree, and with it the
    // client's component cache (mergeDiff keeps only the new "c")
    this.rootResent = !this.isJoin && has(diff, "s");
    if (this.rootResent) this.knownCids = new Set();
    this.node(diff, "", null, "root");
    if (has(diff, "c")) this.components(diff.c);
  }

  unknownKey(at, key) {
    if (key === "d") this.fail(sub(at, key), LEGACY_D);
    const message = `unknown key ${JSON.stringify(key)}, which the client ignores`;
    if (this.lenient) this.warn(`line ${this.line}, at ${sub(at, key)}: ${message}`);
    else this.fail(sub(at, key), `${message} (--lenient only warns)`);
  }

  /** A templates object "p": {"0": [statics], ...}. */
  templates(p, at) {
    if (!isObject(p)) this.fail(at, `"p" must be an object of statics arrays`);
    for (const key of Object.keys(p)) {
      if (!INT_KEY.test(key)) this.fail(sub(at, key), `"p" keys must be integers`);
      this.staticsArray(p[key], sub(at, key));
    }
  }

  staticsArray(s, at) {
    if (!Array.isArray(s) || s.length === 0) this.fail(at, `statics must be a non-empty array of strings`);
    s.forEach((part, i) => {
      if (typeof part !== "string") this.fail(sub(at, i), `statics must be strings, got ${JSON.stringify(part)}`);
    });
  }

  /** "s" of a rendered node or comprehension: an array, or a reference into `templates`. */
  statics(s, at, templates) {
    if (Array.isArray(s)) return this.staticsArray(s, at);
    if (!Number.isInteger(s)) this.fail(at, `"s" must be an array of strings or a template index, got ${JSON.stringify(s)}`);
    if (!templates || !has(templates, String(s))) {
      this.fail(at, `"s" refers to template ${s}, but no "p" of this diff around it defines one`);
    }
  }

  dynamic(value, at, templates) {
    if (typeof value === "string") return;
    if (typeof value === "number") {
      if (!Number.isInteger(value) || value < 1) {
        this.fail(at, `a number as dynamic is a component id and must be a positive integer, got ${value}`);
      }
      return;
    }
    if (isObject(value)) return this.node(value, at, templates, "nested");
    let hint = "";
    if (value === null) hint = ' (leave the key out instead: the client prints null as the text "null")';
    else if (typeof value === "boolean") hint = ` (the client prints it as the text "${value}")`;
    this.fail(at, `a dynamic must be a string, a component id or an object, got ${JSON.stringify(value)}${hint}`);
  }

  /** A rendered node: the root, a nested rendered, or a component's root. kind: root | nested | component */
  node(node, at, templates, kind) {
    if (has(node, "k")) return this.comprehension(node, at, templates);
    // a node's own "p" replaces the templates in scope for itself and below
    if (has(node, "p")) {
      this.templates(node.p, sub(at, "p"));
      templates = node.p;
    }
    if (has(node, "s") && kind !== "component") this.statics(node.s, sub(at, "s"), templates);
    for (const key of Object.keys(node)) {
      if (INT_KEY.test(key)) {
        this.dynamic(node[key], sub(at, key), templates);
      } else if (key === "s" || key === "p") {
        continue;
      } else if (key === "r" && kind !== "root") {
        if (node.r !== 1 && node.r !== true) this.fail(sub(at, "r"), `"r" (root flag) must be 1`);
      } else if (key === "c" && kind === "root") {
        continue;
      } else {
        this.unknownKey(at, key);
      }
    }
  }

  comprehension(node, at, templates) {
    // "s" resolves against the templates around the comprehension; its own "p"
    // serves the entries, and only when there are none around it
    if (has(node, "s")) this.statics(node.s, sub(at, "s"), templates);
    if (has(node, "p")) this.templates(node.p, sub(at, "p"));
    const entryTemplates = templates || node.p || null;
    for (const key of Object.keys(node)) {
      if (key === "k" || key === "s" || key === "p") continue;
      if (key === "stream") {
        this.stream(node.stream, sub(at, "stream"));
      } else if (INT_KEY.test(key)) {
        this.fail(sub(at, key), `a comprehension has no dynamics of its own; its entries go in "k"`);
      } else {
        this.unknownKey(at, key);
      }
    }
    const k = node.k;
    const kat = sub(at, "k");
    if (!isObject(k)) this.fail(kat, `"k" must be an object`);
    if (!isIndex(k.kc)) this.fail(sub(kat, "kc"), `"kc" (number of entries) is required and must be a non-negative integer`);
    if (has(k, "km") && k.km !== true) this.fail(sub(kat, "km"), `"km" must be true when present`);
    const moved = [];
    for (const key of Object.keys(k)) {
      if (key === "kc" || key === "km") continue;
      const eat = sub(kat, key);
      if (!INT_KEY.test(key)) {
        this.unknownKey(kat, key);
        continue;
      }
      if (Number(key) >= k.kc) this.fail(eat, `entry ${key} is not below "kc" (${k.kc}) and would never be rendered`);
      const entry = k[key];
      if (Array.isArray(entry)) {
        if (entry.length !== 2 || !isIndex(entry[0]) || !isObject(entry[1])) {
          this.fail(eat, `a moved entry with changes must be [old_index, entry_diff]`);
        }
        this.entry(entry[1], sub(eat, 1), entryTemplates);
        moved.push(key);
      } else if (typeof entry === "number") {
        if (!isIndex(entry)) this.fail(eat, `a moved entry must be its old index (a non-negative integer)`);
        moved.push(key);
      } else if (isObject(entry)) {
        this.entry(entry, eat, entryTemplates);
      } else {
        this.fail(eat, `an entry must be an object, an old index or [old_index, diff], got ${JSON.stringify(entry)}`);
      }
    }
    if (moved.length > 0 && k.km !== true) {
      this.fail(
        kat,
        `entries ${moved.join(", ")} are moves, but "km": true is missing ` +
          `(without it the client has no copy of the old entries and throws)`,
      );
    }
  }

  entry(entry, at, templates) {
    for (const key of Object.keys(entry)) {
      if (INT_KEY.test(key)) this.dynamic(entry[key], sub(at, key), templates);
      else if (key === "s") this.fail(sub(at, "s"), `entries use the comprehension's "s" and cannot carry their own`);
      else this.unknownKey(at, key);
    }
  }

  stream(stream, at) {
    if (!Array.isArray(stream) || stream.length < 3 || stream.length > 4) {
      this.fail(at, `"stream" must be [ref, inserts, deleted_dom_ids] with an optional 4th element true (reset)`);
    }
    const [ref, inserts, deletes] = stream;
    if (typeof ref !== "string" && !Number.isInteger(ref)) this.fail(sub(at, 0), `the stream ref must be a string`);
    if (!Array.isArray(inserts)) this.fail(sub(at, 1), `stream inserts must be an array`);
    inserts.forEach((ins, i) => {
      const iat = sub(sub(at, 1), i);
      if (!Array.isArray(ins) || ins.length < 2 || ins.length > 4) this.fail(iat, `an insert must be [dom_id, at, limit, update_only]`);
      if (typeof ins[0] !== "string") this.fail(sub(iat, 0), `the insert's dom id must be a string`);
      if (!Number.isInteger(ins[1])) this.fail(sub(iat, 1), `the insert position must be an integer (-1 appends)`);
      if (ins[2] != null && !Number.isInteger(ins[2])) this.fail(sub(iat, 2), `the insert limit must be an integer or null`);
      if (ins[3] != null && typeof ins[3] !== "boolean") this.fail(sub(iat, 3), `update_only must be a boolean or null`);
    });
    if (!Array.isArray(deletes) || !deletes.every((d) => typeof d === "string")) {
      this.fail(sub(at, 2), `stream deletes must be an array of dom id strings`);
    }
    if (stream.length === 4 && stream[3] !== true) this.fail(sub(at, 3), `the reset flag must be true when present`);
  }

  components(c) {
    if (!isObject(c)) this.fail("c", `"c" must be an object keyed by component id`);
    const inDiff = new Set(Object.keys(c).map(Number));
    const emptied = this.rootResent ? " (this diff re-sends the root \"s\", which empties the client's component cache)" : "";
    for (const key of Object.keys(c)) {
      const at = sub("c", key);
      if (!INT_KEY.test(key) || key === "0") this.fail(at, `component ids must be positive integers`);
      const comp = c[key];
      if (!isObject(comp)) this.fail(at, `a component must be an object`);
      if (has(comp, "k")) this.fail(sub(at, "k"), `a component's root cannot be a comprehension`);
      const cid = Number(key);
      if (!has(comp, "s")) {
        if (!this.knownCids.has(cid)) this.fail(at, `component ${cid} is new to the client but has no "s"${emptied}`);
      } else if (Number.isInteger(comp.s)) {
        // statics shared with another component: positive = sent in this
        // same "c", negative = one the client already holds
        const ref = comp.s;
        if (ref === 0) this.fail(sub(at, "s"), `a shared-statics reference cannot be 0`);
        if (ref > 0 && !inDiff.has(ref)) this.fail(sub(at, "s"), `"s": ${ref} must name a component sent in this same "c"`);
        if (ref < 0 && !this.knownCids.has(-ref)) {
          this.fail(sub(at, "s"), `"s": ${ref} names component ${-ref}, which the client does not hold${emptied}`);
        }
      } else {
        if (has(comp, "p")) this.templates(comp.p, sub(at, "p"));
        this.statics(comp.s, sub(at, "s"), comp.p || null);
        if (comp.r !== 1 && comp.r !== true) {
          this.fail(
            at,
            `component ${cid} has statics but no "r": 1; the client only marks root elements with ` +
              `data-phx-component, so the component would be lost in the page`,
          );
        }
      }
      this.node(comp, at, null, "component");
    }
  }
}

/**
 * Walks the merged tree as the renderer will and fails on anything that would
 * render as "undefined"/"null" or make the client throw.
 */
function checkTree(tree, line) {
  const fail = (at, message) => {
    throw new HarnessError(message, { line, at });
  };
  const components = isObject(tree.c) ? tree.c : {};
  const rendered = new Set();
  const open = new Set();

  const staticsOf = (node, templates, at) => {
    const s = node.s;
    if (Array.isArray(s)) return s;
    if (s === undefined) fail(sub(at, "s"), `no statics "s" after the merge (this part was never sent in full)`);
    if (Number.isInteger(s) && templates && Array.isArray(templates[s])) return templates[s];
    fail(sub(at, "s"), `statics ${JSON.stringify(s)} cannot be resolved after the merge`);
  };

  const dynamic = (value, at, templates) => {
    if (typeof value === "string") return;
    if (typeof value === "number") return component(value, at);
    if (isObject(value)) return node(value, at, templates);
    if (value === undefined) fail(at, `this dynamic is missing after the merge (the client would print "undefined")`);
    fail(at, `this dynamic is ${JSON.stringify(value)} after the merge`);
  };

  const node = (n, at, templates) => {
    if (isObject(n.k)) {
      const statics = staticsOf(n, templates, at);
      const entryTemplates = templates || n.p;
      const count = n.k.kc;
      if (!isIndex(count)) fail(sub(sub(at, "k"), "kc"), `"kc" is missing after the merge`);
      for (let i = 0; i < count; i++) {
        const eat = sub(sub(at, "k"), i);
        const entry = n.k[i];
        if (!isObject(entry)) fail(eat, `entry ${i} of ${count} is missing after the merge`);
        for (let d = 0; d < statics.length - 1; d++) dynamic(entry[d], sub(eat, d), entryTemplates);
      }
      return;
    }
    if (n.p) templates = n.p;
    const statics = staticsOf(n, templates, at);
    for (let d = 0; d < statics.length - 1; d++) dynamic(n[d], sub(at, d), templates);
  };

  const component = (cid, at) => {
    if (!isObject(components[cid])) fail(at, `refers to component ${cid}, which the client does not hold`);
    if (rendered.has(cid)) return;
    if (open.has(cid)) fail(at, `component ${cid} renders itself`);
    open.add(cid);
    const comp = components[cid];
    if (comp.r !== 1 && comp.r !== true) fail(sub("c", cid), `component ${cid} has no root flag "r" after the merge`);
    node(comp, sub("c", cid), null);
    open.delete(cid);
    rendered.add(cid);
  };

  node(tree, "", null);
}

module.exports = { DiffCheck, checkTree };
