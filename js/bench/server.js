// The LiveViewJS 0.8.1 reference of `cargo xtask bench`: `/counter` and `/table`, the same
// views and HTML shapes as the Rust examples (examples/src/{counter,table}.rs), served by
// @liveviewjs/express with express-session and ws, as LiveViewJS's own example server does.
// PORT sets the port (0 picks a free one); prints `listening on http://127.0.0.1:PORT`.
"use strict";

// liveviewjs 0.8.1 downloads a MIME database from cdn.jsdelivr.net when it is imported. The
// bench must not leave the loopback interface, and no view here uses uploads: answer that
// request with an empty database instead.
const realFetch = globalThis.fetch;
globalThis.fetch = async (url, init) => {
  const host = new URL(String(url)).hostname;
  if (host === "127.0.0.1" || host === "localhost") return realFetch(url, init);
  return { ok: true, status: 200, statusText: "OK", json: async () => ({}) };
};

const http = require("node:http");
const express = require("express");
const session = require("express-session");
const { WebSocketServer } = require("ws");
const { createLiveView, html } = require("liveviewjs");
const { NodeExpressLiveViewServer } = require("@liveviewjs/express");

const counter = createLiveView({
  mount: (socket) => {
    socket.assign({ count: 0 });
    socket.pageTitle("Counter");
  },
  handleEvent: (event, socket) => {
    const { count } = socket.context;
    switch (event.type) {
      case "inc":
        socket.assign({ count: count + 1 });
        break;
      case "dec":
        socket.assign({ count: count - 1 });
        break;
    }
  },
  render: (context) =>
    html`<div class="counter"><h1>Count: ${context.count}</h1><button phx-click="dec">-</button><button phx-click="inc">+</button></div><p><a href="/">All examples</a></p>`,
});

const initialRows = () =>
  Array.from({ length: 100 }, (_, i) => ({ id: i + 1, label: `Row ${i + 1}`, value: 0 }));

const table = createLiveView({
  mount: (socket) => {
    socket.pageTitle("Table");
    socket.assign({ rows: initialRows() });
  },
  handleEvent: (event, socket) => {
    if (event.type !== "bump") return;
    const id = Number(event.id);
    const rows = socket.context.rows.map((row) => (row.id === id ? { ...row, value: row.value + 1 } : row));
    socket.assign({ rows });
  },
  render: (context) =>
    html`<h1>Table</h1><table><thead><tr><th>id</th><th>label</th><th>value</th><th></th></tr></thead><tbody>${context.rows.map(
      (row) =>
        html`<tr id="row-${row.id}"><td>${row.id}</td><td>${row.label}</td><td class="value">${row.value}</td><td><button phx-click="bump" phx-value-id="${row.id}">bump</button></td></tr>`
    )}</tbody></table><p><a href="/">All examples</a></p>`,
});

const router = { "/counter": counter, "/table": table };

// The same document as liveview_core::default_layout.
const page = (title, csrfToken, content) => html`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="csrf-token" content="${csrfToken}">
<link rel="icon" href="data:,">
<title>${title.title}</title>
<script defer src="/assets/app.js"></script>
</head>
<body>
${content}
</body>
</html>
`;

const secret = process.env.SECRET_KEY || "liveview-bench-fixture-secret-not-for-production";
const liveView = new NodeExpressLiveViewServer(router, page, { title: "" }, { serDeSigningSecret: secret });

const app = express();
app.use(session({ secret, resave: false, rememberMe: false, saveUninitialized: true }));
app.use(liveView.httpMiddleware());

const server = http.createServer(app);
const wsServer = new WebSocketServer({ server });
liveView.wsMiddleware()(wsServer);

const port = Number(process.env.PORT || 4100);
server.listen(port, "127.0.0.1", () => {
  console.log(`listening on http://127.0.0.1:${server.address().port}`);
});
