"use strict";
// Loads the published phoenix_live_view client (its CommonJS build, straight
// from node_modules) into a jsdom window and hands back the pieces of it the
// harness drives: the internal `Rendered` class (diff merging + HTML
// rendering) and the exported `RenderingBuffer`.
//
// `Rendered` is not exported by the package, so the bundle is compiled as the
// body of a function whose last statement returns the module-level bindings we
// want. The code runs inside the window's own realm (jsdom's VM context), as it
// would in a browser; nothing of the client is re-implemented here.

const fs = require("fs");
const path = require("path");
const vm = require("vm");
const { JSDOM, VirtualConsole } = require("jsdom");

/** Directory and package.json of an installed package. */
function installedPackage(name) {
  // "exports" maps hide package.json from require.resolve, so start at the
  // main entry point and walk up until the package's own manifest.
  let dir = path.dirname(require.resolve(name));
  while (true) {
    const manifest = path.join(dir, "package.json");
    if (fs.existsSync(manifest)) {
      const pkg = JSON.parse(fs.readFileSync(manifest, "utf8"));
      if (pkg.name === name) return { dir, pkg };
    }
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`package.json of ${name} not found`);
    dir = parent;
  }
}

function clientVersions() {
  const out = {};
  for (const name of ["phoenix_live_view", "phoenix", "jsdom"]) {
    out[name] = installedPackage(name).pkg.version;
  }
  return out;
}

/**
 * Compiles a CommonJS bundle inside `dom`'s realm and returns
 * `{ exports, internals }`, `internals` holding the requested top-level
 * bindings of the bundle.
 */
function runBundle(dom, file, bindings) {
  const source = fs.readFileSync(file, "utf8");
  const picks = bindings.map((name) => `${name}: typeof ${name} === "undefined" ? undefined : ${name}`);
  const code =
    "(function () {\n" +
    "const module = { exports: {} };\n" +
    "const exports = module.exports;\n" +
    source +
    `\n;return { exports: module.exports, internals: { ${picks.join(", ")} } };\n` +
    "})()";
  const script = new vm.Script(code, { filename: file, lineOffset: -3 });
  const result = script.runInContext(dom.getInternalVMContext());
  const missing = bindings.filter((name) => result.internals[name] === undefined);
  if (missing.length > 0) {
    throw new Error(
      `${path.basename(file)} does not define ${missing.join(", ")} any more; ` +
        "the oracle must be adapted to this client release",
    );
  }
  return result;
}

/**
 * A jsdom window with the LiveView client loaded.
 *
 * `onConsole(level, text)` receives what the client logs; `onDiagnostic(detail)`
 * the client's `phx:live-view:diagnostic` events.
 */
class Client {
  constructor({ onConsole = () => {}, onDiagnostic = () => {} } = {}) {
    const virtualConsole = new VirtualConsole();
    for (const level of ["log", "info", "warn", "error", "debug"]) {
      virtualConsole.on(level, (...args) => onConsole(level, args.map(String).join(" ")));
    }
    virtualConsole.on("jsdomError", (err) => onConsole("jsdomError", String(err && err.message)));
    this.dom = new JSDOM("<!DOCTYPE html><html><head><title></title></head><body></body></html>", {
      url: "http://localhost:4000/",
      runScripts: "outside-only",
      pretendToBeVisual: true,
      virtualConsole,
    });
    this.window = this.dom.window;
    this.window.addEventListener("phx:live-view:diagnostic", (event) => onDiagnostic(event.detail || {}));
    const lv = installedPackage("phoenix_live_view");
    const file = path.join(lv.dir, "priv", "static", "phoenix_live_view.cjs.js");
    const { exports, internals } = runBundle(this.dom, file, ["Rendered", "RenderingBuffer"]);
    this.exports = exports;
    this.Rendered = internals.Rendered;
    this.RenderingBuffer = internals.RenderingBuffer;
  }

  /** Parses JSON into objects of the window's realm. */
  parse(text) {
    return this.window.JSON.parse(text);
  }

  /** Deep copy inside the window's realm. */
  copy(value) {
    return this.window.JSON.parse(this.window.JSON.stringify(value));
  }

  close() {
    this.window.close();
  }
}

module.exports = { Client, clientVersions };
