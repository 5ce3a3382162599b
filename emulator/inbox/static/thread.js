// One conversation: its messages as bubbles (oldest at the top), each with its status history,
// and the composer that sends as the end user through POST /_emulator/inbound.

import { api, query } from "./api.js";
import { providerName } from "./conversations.js";
import { fullTime, h, replace, shortTime } from "./dom.js";

const PAGE = 200;
// pages read at most for one thread (each scans up to 10,000 stored messages)
const MAX_PAGES = 20;
// TSG's data_coding values (the TSG fact sheet): what each encoding is called
const ENCODINGS = { 0: "GSM-7", 1: "ASCII", 3: "Latin-1", 8: "UCS-2" };

// The thread a message belongs to: provider, our number or sender id, the end user's number.
export function threadOf(message) {
  const outbound = message.direction === "outbound";
  return {
    provider: message.provider,
    ours: (outbound ? message.from : message.to) || "",
    end_user: (outbound ? message.to : message.from) || "",
  };
}

// The code of an OTP: a Telesign message_type OTP, or text that says it is a code
export function otpCode(message) {
  if (message.direction !== "outbound") return null;
  const typed = message.details && message.details.message_type === "OTP";
  if (!typed && !/\b(code|otp|pin|passcode|verification)\b/i.test(message.text)) return null;
  const match = message.text.match(/\b(\d{4,8})\b/);
  return match ? match[1] : null;
}

function statusClass(message) {
  const status = String(message.status);
  if (/^(200|1500|delivered|received)$/.test(status)) return "ok";
  if (!message.final) return "pending";
  return "failed";
}

function sender(message) {
  if (message.direction === "inbound") return "End user → your app";
  if (message.origin === "provider") return "Provider auto-reply → end user";
  return "Your app → end user";
}

export class ThreadView {
  // countOf(key): how many messages the thread has, if the caller knows, else null
  constructor({ onWebhooks, onSent, channels, countOf }) {
    this.onWebhooks = onWebhooks;
    this.countOf = countOf;
    this.onSent = onSent;
    this.channels = channels;  // provider -> channels it accepts inbound
    this.head = document.getElementById("thread-head");
    this.bubbles = document.getElementById("bubbles");
    this.form = document.getElementById("composer");
    this.key = null;
    this.thread = null;
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.send(this.form.elements.text.value);
    });
    for (const button of this.form.querySelectorAll("[data-keyword]")) {
      button.addEventListener("click", () => this.send(button.dataset.keyword));
    }
    const provider = this.form.elements.provider;
    provider.addEventListener("change", () => this.fillChannels());
  }

  setProviders(vocabulary) {
    this.channels = vocabulary;
    const provider = this.form.elements.provider;
    replace(provider, Object.keys(vocabulary).sort().map(
      (name) => h("option", { value: name }, providerName(name))));
    this.fillChannels();
  }

  fillChannels(selected) {
    const name = this.form.elements.provider.value;
    const channel = this.form.elements.channel;
    const choices = (this.channels[name] && this.channels[name].channels) || ["sms"];
    replace(channel, choices.map((value) => h("option", { value }, value)));
    channel.value = selected && choices.includes(selected) ? selected : choices[0];
  }

  // A blank composer for a conversation that does not exist yet
  startNew() {
    this.key = null;
    this.thread = null;
    replace(this.head, h("h2", {}, "New conversation"),
      h("p", { class: "muted" }, "Write as an end user: pick the provider, the user's number (From) and your number (To)."));
    replace(this.bubbles);
    this.form.elements.from.value = "";
    this.form.elements.to.value = "";
    this.form.elements.text.value = "";
    this.clearErrors();
    this.form.elements.from.focus();
  }

  async open(key, thread) {
    const changed = key !== this.key;
    this.key = key;
    if (thread) this.thread = thread;
    // a page of a filtered list may come back short with a next link (the store's scan
    // budget): follow it until a page's worth is here or the thread has no more; when the
    // conversation list knows how many messages the thread has, stop once they are all here
    // (with 100,000 stored, the pages after would each scan 10,000 messages for nothing)
    const total = this.countOf(key);
    let answer = await api("GET", query("/_emulator/messages", { thread: key, limit: PAGE }));
    const found = answer.messages.slice();
    const haveAll = () => total !== null && found.length >= total;
    for (let pages = 1; answer.next && found.length < PAGE && !haveAll() && pages < MAX_PAGES; pages++) {
      answer = await api("GET", answer.next);
      found.push(...answer.messages);
    }
    if (key !== this.key) return;  // another thread was opened meanwhile
    const messages = found.slice(0, PAGE).reverse();
    this.render(messages, found.length > PAGE || (Boolean(answer.next) && !haveAll()));
    if (changed) this.fillComposer(messages);
  }

  async refresh() {
    if (this.key) await this.open(this.key);
  }

  fillComposer(messages) {
    const any = messages[messages.length - 1];
    if (!any) return;
    const where = threadOf(any);
    this.form.elements.provider.value = where.provider;
    const inbound = messages.filter((m) => m.direction === "inbound").pop();
    this.fillChannels(inbound ? inbound.channel : any.channel);
    this.form.elements.from.value = where.end_user;
    this.form.elements.to.value = where.ours;
    this.form.elements.text.value = "";
    this.clearErrors();
  }

  render(messages, more) {
    const any = messages[messages.length - 1];
    if (!any) {
      replace(this.head, h("h2", {}, "No messages"));
      replace(this.bubbles);
      return;
    }
    const where = threadOf(any);
    const consent = messages.filter((m) => m.direction === "inbound" && ["stop", "start"].includes(
      m.details && m.details.action)).pop();
    replace(this.head,
      h("h2", {}, h("span", { class: `badge provider-${where.provider}` }, providerName(where.provider)), " ",
        where.end_user || "(no number)", h("span", { class: "muted" }, ` ↔ ${where.ours || "default sender"}`)),
      h("p", { class: "muted" }, `${messages.length}${more ? "+" : ""} message${messages.length === 1 ? "" : "s"}`,
        consent ? " · " : "",
        consent ? h("span", { class: `chip ${consent.details.action === "stop" ? "chip-failed" : "chip-ok"}` },
          consent.details.action === "stop" ? "opted out (STOP)" : "opted in (START)") : null));
    const items = [];
    if (more) items.push(h("li", { class: "muted older" }, `Older messages are not shown (the newest ${PAGE} are).`));
    for (const message of messages) items.push(this.bubble(message));
    replace(this.bubbles, items);
    this.bubbles.scrollTop = this.bubbles.scrollHeight;
  }

  bubble(message) {
    const details = message.details || {};
    const tags = [h("span", { class: "tag" }, message.channel)];
    if (details.message_type) tags.push(h("span", { class: "tag" }, details.message_type));
    if (details.via === "smpp" && details.smpp) {
      tags.push(h("span", { class: "tag" }, `via SMPP (${details.smpp.system_id}, ${details.smpp.session})`));
    }
    if (details.encoding !== undefined && details.encoding !== null) {
      tags.push(h("span", { class: "tag" }, `encoding ${details.encoding} (${ENCODINGS[details.encoding] || "?"})`));
    }
    if (Array.isArray(details.parts) && details.parts.length) {
      tags.push(h("span", { class: "tag" }, `${details.parts.length} parts, UDH count ${details.udh ? details.udh.count : details.parts.length}`));
    }
    if (message.direction === "inbound" && details.action) {
      tags.push(h("span", { class: `tag keyword keyword-${details.action}` },
        details.keyword ? `keyword ${details.keyword} → ${details.action}` : `no keyword → ${details.action}`));
    }
    if (details.auto_response) tags.push(h("span", { class: "tag keyword" }, "compliance auto-reply"));
    if (details.blocked_by_opt_out) tags.push(h("span", { class: "tag keyword keyword-stop" }, "blocked: opted out"));
    const code = otpCode(message);
    const history = (message.history || []).map((change) => h("li", {},
      h("span", { class: "history-status" }, String(change.status)), " ",
      h("span", {}, change.description), " ",
      h("time", { class: "muted", datetime: change.at, title: fullTime(change.at) }, shortTime(change.at))));
    return h("li", { class: `bubble ${message.direction}`, dataset: { id: message.id } },
      h("div", { class: "bubble-head muted" }, sender(message), " · ",
        h("time", { datetime: message.created_at, title: fullTime(message.created_at) }, shortTime(message.created_at))),
      h("p", { class: "text" }, message.text),
      h("div", { class: "tags" }, tags),
      h("div", { class: "bubble-status" },
        h("span", { class: `chip chip-${statusClass(message)} status`, title: message.status_description },
          `${message.status} ${message.status_description}`),
        code ? h("button", { type: "button", class: "copy", onclick: (event) => copy(code, event.currentTarget) }, `Copy code ${code}`) : null,
        h("button", { type: "button", class: "link", onclick: () => this.onWebhooks(message.id) }, "Webhooks")),
      h("ol", { class: "history", "aria-label": "Status history" }, history),
      h("div", { class: "bubble-id muted" }, message.id));
  }

  clearErrors() {
    for (const slot of this.form.querySelectorAll("[data-error-for]")) slot.textContent = "";
    for (const field of this.form.querySelectorAll("[aria-invalid]")) field.removeAttribute("aria-invalid");
  }

  async send(text) {
    this.clearErrors();
    const elements = this.form.elements;
    const body = { provider: elements.provider.value, channel: elements.channel.value,
      from: elements.from.value.trim(), to: elements.to.value.trim(), text };
    try {
      const answer = await api("POST", "/_emulator/inbound", body);
      elements.text.value = "";
      this.onSent(answer.messages);
    } catch (error) {
      // the control API names the field at fault; put its message next to that field
      const field = error.field && this.form.querySelector(`[data-error-for="${CSS.escape(error.field)}"]`);
      const slot = field || this.form.querySelector('[data-error-for=""]');
      slot.textContent = error.message;
      if (field && elements[error.field]) elements[error.field].setAttribute("aria-invalid", "true");
    }
  }
}

async function copy(code, button) {
  try {
    await navigator.clipboard.writeText(code);
    button.textContent = `Copied ${code}`;
  } catch {
    button.textContent = `Code: ${code}`;
  }
}
