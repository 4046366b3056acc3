// Browser entry point served by the Rust server at /assets/app.js.
// Bundled by `cargo xtask assets` (esbuild: IIFE, minified, es2020) to
// js/dist/app.js.
import { Socket } from "phoenix";
import { LiveSocket } from "phoenix_live_view";
import hooks from "./hooks.js";
import uploaders from "./uploaders.js";

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

liveSocket.connect();

// exposed for debugging (liveSocket.enableDebug()) and for the e2e tests
window.liveSocket = liveSocket;
