// The clock bar: emulated time and mode, pending work, and on a manual clock the buttons that
// advance it (POST /_emulator/clock/advance) and Reset (POST /_emulator/reset, confirmed).

import { api } from "./api.js";
import { fullTime, setNow } from "./dom.js";

export class ClockBar {
  constructor({ onChanged }) {
    this.onChanged = onChanged;
    this.state = null;
    this.now = document.getElementById("clock-now");
    this.mode = document.getElementById("clock-mode");
    this.pending = document.getElementById("clock-pending");
    this.controls = document.getElementById("clock-controls");
    this.error = document.getElementById("clock-error");
    this.seconds = document.getElementById("advance-seconds");
    for (const button of this.controls.querySelectorAll("[data-advance]")) {
      button.addEventListener("click", () => this.advance(Number(button.dataset.advance)));
    }
    document.getElementById("advance-by").addEventListener("click", () => {
      if (this.seconds.value.trim() === "") {
        this.error.textContent = "Seconds: enter a number of seconds";
        return;
      }
      this.advance(Number(this.seconds.value));
    });
    this.seconds.addEventListener("keydown", (event) => {
      if (event.key === "Enter") document.getElementById("advance-by").click();
    });
    document.getElementById("advance-next").addEventListener("click", () => this.advanceToNext());
    const dialog = document.getElementById("reset-dialog");
    document.getElementById("reset").addEventListener("click", () => dialog.showModal());
    dialog.addEventListener("close", async () => {
      if (dialog.returnValue !== "reset") return;
      await api("POST", "/_emulator/reset");
      this.onChanged({ reset: true });
    });
  }

  render(state) {
    this.state = state;
    setNow(state.now);
    this.now.textContent = fullTime(state.now);
    this.now.setAttribute("datetime", state.now);
    const manual = state.mode === "manual";
    this.mode.textContent = manual ? "manual clock"
      : state.speed && state.speed !== 1 ? `${state.mode} clock ×${state.speed}` : `${state.mode} clock`;
    this.mode.className = `chip ${manual ? "chip-manual" : "chip-real"}`;
    const jobs = `${state.pending_jobs.toLocaleString("en-US")} pending job${state.pending_jobs === 1 ? "" : "s"}`;
    const next = state.next_due ? `, next due ${fullTime(state.next_due)}` : "";
    const hooks = state.pending_deliveries
      ? ` · ${state.pending_deliveries.toLocaleString("en-US")} webhook${state.pending_deliveries === 1 ? "" : "s"} pending` : "";
    this.pending.textContent = jobs + next + hooks;
    this.controls.hidden = !manual;
    document.getElementById("advance-next").disabled = !state.next_due;
  }

  async refresh() {
    this.render(await api("GET", "/_emulator/clock"));
  }

  async advanceToNext() {
    if (!this.state || !this.state.next_due) return;
    const seconds = (Date.parse(this.state.next_due) - Date.parse(this.state.now)) / 1000;
    // the times are to the microsecond; milliseconds may round just short of the job
    await this.advance(Math.max(0, seconds) + 0.001);
  }

  async advance(seconds) {
    this.error.textContent = "";
    for (const button of this.controls.querySelectorAll("button")) button.disabled = true;
    try {
      this.render(await api("POST", "/_emulator/clock/advance", { seconds }));
      this.onChanged({ reset: false });
    } catch (error) {
      this.error.textContent = error.field ? `${capitalise(error.field)}: ${error.message}` : error.message;
    } finally {
      for (const button of this.controls.querySelectorAll("button")) button.disabled = false;
      document.getElementById("advance-next").disabled = !(this.state && this.state.next_due);
    }
  }
}

function capitalise(text) {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
