// Browser entry point served by the Rust server at /assets/app.js.
// Bundled by `cargo xtask assets` (esbuild: IIFE, minified, es2020) to
// js/dist/app.js.
import { Socket } from "phoenix";
import { LiveSocket } from "phoenix_live_view";
import hooks from "./hooks.js";
import uploaders from "./uploaders.js";
// The examples' stylesheet: esbuild writes it next to the bundle (dist/app.css).
import "./app.css";

const meta = document.querySelector('meta[name="csrf-token"]');
const csrfToken = meta ? meta.getAttribute("content") : null;

const liveSocket = new LiveSocket("/live", Socket, {
  // Connect params: the views see them in `Socket::connect_params` (the account page shows
  // the time zone).
  params: {
    _csrf_token: csrfToken,
    timezone: Intl.DateTimeFormat().resolvedOptions().timeZone,
  },
  hooks: { ...hooks, ...(window.LiveViewHooks || {}) },
  uploaders: { ...uploaders, ...(window.LiveViewUploaders || {}) },
});

// A message the server refused (an event name with a typo, a value that does not decode, a
// busy view) is answered so the element unlocks, with an `lv:refused` event saying why. With
// `liveSocket.enableDebug()` the console shows it.
window.addEventListener("phx:lv:refused", (e) => {
  if (liveSocket.isDebugEnabled()) {
    console.warn("LiveView refused an event:", e.detail);
  }
});

liveSocket.connect();

// exposed for debugging (liveSocket.enableDebug()) and for the e2e tests
window.liveSocket = liveSocket;
