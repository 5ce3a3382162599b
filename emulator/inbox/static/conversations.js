// The sidebar: threads from GET /_emulator/conversations (newest first, a page at a time),
// search and filters, unread counts. A thread is read once it has been open; what was read is
// kept per browser in localStorage (a view's state, not the emulator's).

import { api, query } from "./api.js";
import { debounce, h, replace, shortTime } from "./dom.js";

const PAGE = 100;
const SEEN_KEY = "sms-emulator.seen";

function loadSeen() {
  try {
    return JSON.parse(localStorage.getItem(SEEN_KEY) || "{}");
  } catch {
    return {};
  }
}

export const PROVIDER_NAMES = { telesign: "Telesign", tsg: "TSG Global" };

export function providerName(name) {
  return PROVIDER_NAMES[name] || name;
}

export class ConversationList {
  constructor({ onOpen }) {
    this.onOpen = onOpen;
    this.list = document.getElementById("threads");
    this.more = document.getElementById("more-threads");
    this.total = document.getElementById("thread-total");
    this.search = document.getElementById("search");
    this.filters = [...document.querySelectorAll("[data-filter]")];
    this.threads = [];
    this.next = null;
    this.selected = null;
    this.seen = loadSeen();
    this.search.addEventListener("input", debounce(() => this.reload(), 200));
    for (const select of this.filters) select.addEventListener("change", () => this.reload());
    this.more.addEventListener("click", () => this.loadMore());
  }

  params(limit) {
    const params = { limit, q: this.search.value.trim() };
    for (const select of this.filters) params[select.dataset.filter] = select.value;
    return params;
  }

  // Read the first page again, as many threads as are shown (so live updates keep what the
  // person scrolled to), and redraw.
  async reload() {
    const limit = Math.min(1000, Math.max(PAGE, this.threads.length));
    const answer = await api("GET", query("/_emulator/conversations", this.params(limit)));
    this.threads = answer.conversations;
    this.next = answer.next;
    this.facets = answer.facets;
    this.totalCount = answer.total;
    this.fillStatusChoices(answer.facets);
    this.render();
  }

  async loadMore() {
    if (!this.next) return;
    const answer = await api("GET", this.next);
    this.threads = this.threads.concat(answer.conversations);
    this.next = answer.next;
    this.render();
  }

  fillStatusChoices(facets) {
    for (const [name, id] of [["status", "filter-status"], ["channel", "filter-channel"],
      ["provider", "filter-provider"]]) {
      const select = document.getElementById(id);
      const known = new Set([...select.options].map((option) => option.value));
      const values = Object.keys((facets && facets[name]) || {}).sort();
      for (const value of values) {
        if (!known.has(value)) {
          select.appendChild(h("option", { value }, name === "provider" ? providerName(value) : value));
        }
      }
    }
  }

  markSeen(thread) {
    if (!thread) return;
    if (this.seen[thread.key] !== thread.last_seq) {
      this.seen[thread.key] = thread.last_seq;
      localStorage.setItem(SEEN_KEY, JSON.stringify(this.seen));
    }
  }

  render() {
    const shown = this.threads.length;
    const count = this.totalCount.toLocaleString("en-US");
    this.total.textContent = `${count} conversation${this.totalCount === 1 ? "" : "s"}`
      + (shown < this.totalCount ? ` (${shown.toLocaleString("en-US")} shown)` : "");
    const items = this.threads.map((thread) => this.item(thread));
    if (!items.length) {
      items.push(h("li", { class: "empty" }, this.search.value || this.filters.some((f) => f.value)
        ? "No conversation matches." : "No messages yet. Send one through a provider API, or start a conversation."));
    }
    replace(this.list, items);
    this.more.hidden = !this.next;
  }

  item(thread) {
    const open = this.selected === thread.key;
    if (open) this.markSeen(thread);
    const unread = open ? "" : unreadLabel(thread, this.seen[thread.key]);
    const last = thread.last;
    const arrow = last.direction === "inbound" ? "↩ " : "";
    return h("li", {},
      h("button", {
        type: "button", class: `thread${open ? " selected" : ""}${unread ? " unread" : ""}`,
        "aria-current": open ? "true" : null, dataset: { key: thread.key },
        onclick: () => this.open(thread.key),
      },
      h("span", { class: "thread-top" },
        h("span", { class: `badge provider-${thread.provider}` }, providerName(thread.provider)),
        h("span", { class: "thread-peer" }, thread.end_user || "(no number)"),
        h("time", { class: "thread-time", datetime: thread.updated_at }, shortTime(thread.updated_at)),
      ),
      h("span", { class: "thread-ours muted" }, `with ${thread.ours || "default sender"}`,
        thread.channels && thread.channels.length ? ` · ${thread.channels.join(", ")}` : ""),
      h("span", { class: "thread-bottom" },
        h("span", { class: "thread-snippet" }, arrow + last.text),
        unread ? h("span", { class: "unread-count", "aria-label": `${unread} unread` }, unread) : null,
      )));
  }

  open(key) {
    this.selected = key;
    const thread = this.threads.find((t) => t.key === key);
    this.markSeen(thread);
    this.render();
    this.onOpen(key, thread);
  }

  // How many messages the thread has, when the list says (it counts matching messages only:
  // with no search or filter, that is all of them); else null.
  countOf(key) {
    const filtered = this.search.value.trim() || this.filters.some((select) => select.value);
    const thread = filtered ? null : this.find(key);
    return thread ? thread.count : null;
  }

  find(key) {
    return this.threads.find((t) => t.key === key) || null;
  }
}

// Unread, as the badge reads it ("" for none): every message of a thread never opened; for one
// opened before, the messages newer than the newest seen then. The list holds counts, not
// messages, so "newer" is counted in the thread's recent_seqs (its newest 20): "20+" when
// all of those are newer and the thread has more.
function unreadLabel(thread, seenSeq) {
  if (seenSeq === undefined) return String(thread.count);
  if (thread.last_seq <= seenSeq) return "";
  const newer = thread.recent_seqs.filter((seq) => seq > seenSeq).length;
  const capped = newer === thread.recent_seqs.length && thread.count > newer;
  return capped ? `${newer}+` : String(newer);
}
