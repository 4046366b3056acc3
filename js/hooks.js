// Client hooks of the examples, passed to the LiveSocket by app.js.
//
// Sparkline (/dashboard): receives the `point` events the server pushes with
// `socket.push_event("point", {tick, load})`, keeps the last 20 loads and draws
// them as a text sparkline. Its element is phx-update="ignore": the hook owns
// its content. The `points-received` attribute is the number of events
// received, `last-tick` the last tick (read by the browser tests; not data-*
// attributes, which the client resets on ignored elements at every patch).

const BARS = "▁▂▃▄▅▆▇█";

export const Sparkline = {
  mounted() {
    this.points = [];
    this.received = 0;
    this.handleEvent("point", ({ tick, load }) => {
      this.points.push(load);
      if (this.points.length > 20) this.points.shift();
      this.received += 1;
      this.el.setAttribute("points-received", String(this.received));
      this.el.setAttribute("last-tick", String(tick));
      this.el.textContent = this.points
        .map((p) => BARS[Math.min(BARS.length - 1, Math.floor((p / 101) * BARS.length))])
        .join("");
    });
  },
};

// Ask (/js): a click pushes `ask` with the element's data-n; the server answers with
// `socket.reply({square})`, which the pushEvent callback receives (the reply's "r").
export const Ask = {
  mounted() {
    this.el.querySelector("button").addEventListener("click", () => {
      const n = Number(this.el.dataset.n);
      this.pushEvent("ask", { n }, (reply) => {
        this.el.querySelector("output").textContent = `${n}² = ${reply.square}`;
        this.el.setAttribute("reply-square", String(reply.square));
      });
    });
  },
};

export default { Sparkline, Ask };
