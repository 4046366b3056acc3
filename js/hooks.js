// Client hooks of the examples, passed to the LiveSocket by app.js.
//
// Sparkline (/dashboard): receives the `point` events the server pushes with
// `socket.push_event("point", {tick, load})`, keeps the last 20 loads and draws
// them as a text sparkline. Its element is phx-update="ignore": the hook owns
// its content. `data-count` is the number of events received, `data-last` the
// last tick (read by the browser tests).

const BARS = "▁▂▃▄▅▆▇█";

export const Sparkline = {
  mounted() {
    this.points = [];
    this.handleEvent("point", ({ tick, load }) => {
      this.points.push(load);
      if (this.points.length > 20) this.points.shift();
      this.el.dataset.count = String(Number(this.el.dataset.count || 0) + 1);
      this.el.dataset.last = String(tick);
      this.el.textContent = this.points
        .map((p) => BARS[Math.min(BARS.length - 1, Math.floor((p / 101) * BARS.length))])
        .join("");
    });
  },
};

export default { Sparkline };
