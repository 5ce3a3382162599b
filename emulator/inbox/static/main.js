// The inbox page: wires the clock bar, the conversation list, the open thread and the webhook
// view to the control API, and keeps them current from the live event stream.

import { api } from "./api.js";
import { ClockBar } from "./clock.js";
import { ConversationList } from "./conversations.js";
import { follow } from "./live.js";
import { ThreadView, threadOf } from "./thread.js";
import { WebhookView } from "./webhooks.js";

// which views a journal entry changes
const MESSAGE_KINDS = new Set(["message_created", "status_change", "inbound_message", "auto_reply",
  "compliance_keyword", "evicted", "reset", "opt_outs_cleared"]);
const WEBHOOK_KINDS = new Set(["webhook_queued", "webhook_attempt", "webhook_exhausted",
  "webhook_redelivered", "webhook_skipped", "evicted", "reset"]);

function keyOf(where) {
  // the thread key of GET /_emulator/conversations: provider|ours|end_user, with "%" and "|"
  // inside a part written %25 and %7C (and nothing else encoded)
  return [where.provider, where.ours, where.end_user]
    .map((part) => part.replaceAll("%", "%25").replaceAll("|", "%7C")).join("|");
}

class Inbox {
  constructor() {
    this.dirty = { messages: false, webhooks: false, clock: false };
    this.refreshing = null;
    this.clock = new ClockBar({ onChanged: ({ reset }) => this.changed(reset) });
    this.conversations = new ConversationList({ onOpen: (key, thread) => this.openThread(key, thread) });
    this.thread = new ThreadView({
      channels: {},
      onWebhooks: (messageId) => this.showWebhooks(messageId),
      onSent: (messages) => this.sent(messages),
      countOf: (key) => this.conversations.countOf(key),
    });
    this.webhooks = new WebhookView();
    this.tabs = { thread: document.getElementById("tab-thread"), webhooks: document.getElementById("tab-webhooks") };
    this.tabs.thread.addEventListener("click", () => this.showTab("thread"));
    this.tabs.webhooks.addEventListener("click", () => this.showWebhooks(null));
    document.getElementById("new-conversation").addEventListener("click", () => {
      this.conversations.selected = null;
      this.conversations.render();
      this.showTab("thread");
      this.thread.startNew();
    });
  }

  async start() {
    const [clock, vocabulary] = await Promise.all([
      api("GET", "/_emulator/clock"), api("GET", "/_emulator/vocabulary")]);
    this.clock.render(clock);
    this.thread.setProviders(vocabulary.providers);
    await this.conversations.reload();
    const first = this.conversations.threads[0];
    if (first) await this.conversations.open(first.key);
    else this.thread.startNew();
    follow(clock.cursor.journal, {
      onEntry: (entry) => this.onEntry(entry),
      onReload: () => this.changed(true),
      onState: (state) => this.liveState(state),
    });
  }

  liveState(state) {
    const live = document.getElementById("live");
    live.textContent = state === "live" ? "live" : "reconnecting…";
    live.className = `live live-${state}`;
  }

  onEntry(entry) {
    this.dirty.clock = true;
    if (MESSAGE_KINDS.has(entry.kind)) this.dirty.messages = true;
    if (WEBHOOK_KINDS.has(entry.kind)) this.dirty.webhooks = true;
    if (entry.kind === "reset") this.dirty.reset = true;
    this.schedule();
  }

  changed(reset) {
    Object.assign(this.dirty, { messages: true, webhooks: true, clock: true, reset: Boolean(reset) || this.dirty.reset });
    this.schedule();
  }

  // Coalesce bursts of entries into one refresh, one at a time, 100 ms after the first entry,
  // and never sooner after the end of the last refresh than that one took: with 100,000
  // messages stored a refresh's requests take the emulator 0.2-0.4 s, and a page refreshing
  // back to back through a burst would keep its event loop busy. After a quiet spell the
  // next entry shows in 100 ms plus its refresh.
  schedule() {
    if (this.timer || this.refreshing) return;
    const rested = performance.now() - (this.lastRefreshEnd || 0);
    const wait = Math.max(100, (this.lastRefreshMs || 0) - rested);
    this.timer = setTimeout(() => this.refresh(), wait);
  }

  async refresh() {
    this.timer = null;
    const started = performance.now();
    const dirty = this.dirty;
    this.dirty = { messages: false, webhooks: false, clock: false };
    const work = [];
    if (dirty.clock) work.push(this.clock.refresh());
    if (dirty.messages) {
      work.push(this.conversations.reload().then(() => {
        if (dirty.reset && !this.conversations.find(this.thread.key)) this.thread.startNew();
        else return this.thread.refresh();
        return undefined;
      }));
    }
    if (dirty.webhooks && !document.getElementById("webhooks-view").hidden) work.push(this.webhooks.reload());
    this.refreshing = Promise.allSettled(work);
    await this.refreshing;
    this.refreshing = null;
    this.lastRefreshEnd = performance.now();
    this.lastRefreshMs = this.lastRefreshEnd - started;
    if (this.dirty.messages || this.dirty.webhooks || this.dirty.clock) this.schedule();
  }

  showTab(name) {
    for (const [tab, button] of Object.entries(this.tabs)) {
      button.setAttribute("aria-selected", String(tab === name));
      document.getElementById(button.getAttribute("aria-controls")).hidden = tab !== name;
    }
  }

  async openThread(key, thread) {
    this.showTab("thread");
    await this.thread.open(key, thread);
  }

  async showWebhooks(messageId) {
    this.showTab("webhooks");
    await this.webhooks.forMessage(messageId);
  }

  async sent(messages) {
    const mine = messages.find((m) => m.direction === "inbound") || messages[0];
    if (!mine) return;
    const key = keyOf(threadOf(mine));
    await this.conversations.reload();
    this.conversations.open(key);
  }
}

new Inbox().start().catch((error) => {
  const live = document.getElementById("live");
  live.textContent = `error: ${error.message}`;
  live.className = "live live-reconnecting";
});
