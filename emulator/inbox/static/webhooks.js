// Webhook deliveries (GET /_emulator/deliveries): state, every attempt, the signed request and
// the answers, and Redeliver (POST /_emulator/deliveries/{id}/redeliver).

import { api, query } from "./api.js";
import { providerName } from "./conversations.js";
import { fullTime, h, prettyJson, replace, shortTime } from "./dom.js";

const PAGE = 50;

function attemptOutcome(attempt) {
  if (attempt.status !== null && attempt.status !== undefined) {
    const said = attempt.answer || `HTTP ${attempt.status}`; // answer: SMPP's deliver_sm_resp
    return attempt.error ? `${said} (${attempt.error})` : said;
  }
  return attempt.error || "no answer";
}

// an SMPP delivery (smpp://) succeeds with command_status 0, a webhook with HTTP 200
function attemptFailed(attempt) {
  const ok = attempt.url.startsWith("smpp://") ? 0 : 200;
  return Boolean(attempt.error) || (attempt.status !== ok && attempt.status !== null);
}

function ms(value) {
  return value === null || value === undefined ? "–" : `${Number(value).toFixed(1)} ms`;
}

export class WebhookView {
  constructor() {
    this.list = document.getElementById("deliveries");
    this.detail = document.getElementById("delivery-detail");
    this.more = document.getElementById("more-deliveries");
    this.state = document.getElementById("delivery-state");
    this.scope = document.getElementById("delivery-scope");
    this.scopeClear = document.getElementById("delivery-scope-clear");
    this.messageId = null;
    this.selected = null;
    this.items = [];
    this.next = null;
    this.state.addEventListener("change", () => this.reload());
    this.more.addEventListener("click", () => this.loadMore());
    this.scopeClear.addEventListener("click", () => this.forMessage(null));
  }

  forMessage(messageId) {
    this.messageId = messageId;
    this.selected = null;
    return this.reload();
  }

  async reload() {
    this.scope.textContent = this.messageId ? `for message ${this.messageId}` : "";
    this.scopeClear.hidden = !this.messageId;
    const limit = Math.min(1000, Math.max(PAGE, this.items.length));
    const answer = await api("GET", query("/_emulator/deliveries",
      { limit, state: this.state.value, message_id: this.messageId }));
    this.items = answer.deliveries;
    this.next = answer.next;
    if (!this.selected && this.items.length) this.selected = this.items[0].id;
    this.render();
  }

  async loadMore() {
    if (!this.next) return;
    const answer = await api("GET", this.next);
    this.items = this.items.concat(answer.deliveries);
    this.next = answer.next;
    this.render();
  }

  render() {
    const rows = this.items.map((delivery) => h("li", {},
      h("button", {
        type: "button", class: `delivery${delivery.id === this.selected ? " selected" : ""}`,
        "aria-current": delivery.id === this.selected ? "true" : null,
        dataset: { id: delivery.id }, onclick: () => { this.selected = delivery.id; this.render(); },
      },
      h("span", { class: "delivery-top" },
        h("span", { class: "delivery-id" }, delivery.id),
        h("span", { class: `chip state state-${delivery.state}` }, delivery.state),
        h("time", { class: "muted", datetime: delivery.created_at }, shortTime(delivery.created_at))),
      h("span", { class: "muted" }, `${providerName(delivery.provider)} ${delivery.kind} · `
        + `${delivery.attempts.length} attempt${delivery.attempts.length === 1 ? "" : "s"}`),
      h("span", { class: "delivery-url" }, delivery.url))));
    if (!rows.length) rows.push(h("li", { class: "empty" }, "No webhook deliveries."));
    replace(this.list, rows);
    this.more.hidden = !this.next;
    const chosen = this.items.find((d) => d.id === this.selected);
    if (chosen) this.showDetail(chosen);
    else replace(this.detail, h("p", { class: "muted" }, "Choose a delivery."));
  }

  showDetail(delivery) {
    const facts = [
      ["State", h("span", { class: `chip state state-${delivery.state}` }, delivery.state)],
      ["Reason", delivery.reason || "–"],
      ["URL", delivery.url],
      ["Kind", `${providerName(delivery.provider)} ${delivery.kind}`],
      ["Message", delivery.message_id || "–"],
      ["Policy", `${delivery.policy}, up to ${delivery.max_attempts} attempts`],
      ["Next attempt", delivery.next_attempt_at ? fullTime(delivery.next_attempt_at) : "–"],
    ];
    if (delivery.redeliveries) facts.push(["Redelivered", `${delivery.redeliveries} time${delivery.redeliveries === 1 ? "" : "s"}`]);
    const attempts = delivery.attempts.map((attempt) => h("tr", { class: attemptFailed(attempt) ? "failed" : "" },
      h("td", {}, attempt.sequence ? `${attempt.sequence}.${attempt.number}` : String(attempt.number)),
      h("td", {}, h("time", { datetime: attempt.at }, fullTime(attempt.at))),
      h("td", { class: "wrap" }, attempt.url),
      h("td", { class: "outcome" }, attemptOutcome(attempt)),
      h("td", {}, ms(attempt.latency_ms)),
      h("td", {}, ms(attempt.queued_ms)),
      h("td", {}, attempt.next_retry_at ? fullTime(attempt.next_retry_at) : "–"),
      h("td", {}, attempt.response_body
        ? h("details", {}, h("summary", {}, `${attempt.response_body.length} bytes${attempt.response_truncated ? " (cut)" : ""}`),
          h("pre", {}, prettyJson(attempt.response_body)))
        : h("span", { class: "muted" }, "empty"))));
    const headers = Object.entries(delivery.request.headers || {}).map(([name, value]) => h("tr", {},
      h("th", { scope: "row" }, name), h("td", { class: "wrap" }, value)));
    const error = h("span", { class: "field-error", role: "alert" });
    replace(this.detail,
      h("header", { class: "detail-head" },
        h("h2", {}, `Delivery ${delivery.id}`),
        h("button", { type: "button", class: "primary", onclick: () => this.redeliver(delivery, error) }, "Redeliver"),
        error),
      h("dl", { class: "facts" }, facts.map(([name, value]) => [h("dt", {}, name), h("dd", {}, value)])),
      h("h3", {}, "Attempts"),
      h("table", { class: "attempts" },
        h("thead", {}, h("tr", {}, ["#", "Time", "URL", "Status or error", "Latency", "Queued", "Next retry", "Answer"]
          .map((name) => h("th", { scope: "col" }, name)))),
        h("tbody", {}, attempts.length ? attempts : h("tr", {}, h("td", { colspan: 8, class: "muted" }, "Not attempted yet.")))),
      h("h3", {}, "Request headers (signed, as last sent)"),
      h("table", { class: "headers" }, h("tbody", {}, headers)),
      h("h3", {}, "Request body"),
      h("pre", { class: "body" }, prettyJson(delivery.request.body)));
  }

  async redeliver(delivery, error) {
    error.textContent = "";
    try {
      await api("POST", `/_emulator/deliveries/${encodeURIComponent(delivery.id)}/redeliver`);
      this.selected = delivery.id;
      await this.reload();
    } catch (failure) {
      error.textContent = failure.message;
    }
  }
}
