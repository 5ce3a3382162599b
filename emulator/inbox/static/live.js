// The live stream: GET /_emulator/events (server-sent events) read with fetch, so the control
// token can go in a header (EventSource cannot send one). Reconnects by itself; after an
// emulator restart (its journal starts again from 1) or a gap in the stream it asks for a full
// reload instead of pretending nothing was missed.

import { api, askForToken, authHeaders } from "./api.js";

function parseBlock(block) {
  const event = { id: null, type: "message", data: "" };
  const data = [];
  for (const line of block.split("\n")) {
    if (!line || line.startsWith(":")) continue;  // a comment: the keep-alive
    const colon = line.indexOf(":");
    const name = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
    if (name === "id") event.id = value;
    else if (name === "event") event.type = value;
    else if (name === "data") data.push(value);
  }
  event.data = data.join("\n");
  return event;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// onEntry(entry) for each journal entry, onReload() when lists must be read again,
// onState("live" | "reconnecting") as the connection comes and goes.
export async function follow(since, { onEntry, onReload, onState }) {
  let last = since;
  let backoff = 250;
  let first = true;
  for (;;) {
    try {
      if (!first) {
        // a restarted emulator numbers its journal from 1 again: what we hold is stale
        const clock = await api("GET", "/_emulator/clock");
        if (clock.cursor.journal < last) {
          last = clock.cursor.journal;
          onReload();
        }
      }
      first = false;
      const response = await fetch(`/_emulator/events?since=${last}`, {
        headers: { Accept: "text/event-stream", ...authHeaders() },
        cache: "no-store",
      });
      if (response.status === 401) {
        await askForToken("");
        continue;
      }
      if (!response.ok || !response.body) throw new Error(`events answered ${response.status}`);
      onState("live");
      backoff = 250;
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value.replace(/\r\n?/g, "\n");
        let end;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          const event = parseBlock(buffer.slice(0, end));
          buffer = buffer.slice(end + 2);
          if (event.type === "gap") {
            onReload();
          } else if (event.type !== "overflow" && event.data) {
            const entry = JSON.parse(event.data);
            if (typeof entry.seq === "number") last = Math.max(last, entry.seq);
            onEntry(entry);
          }
        }
      }
    } catch (error) {
      // a restart or a network error: wait a little and try again
    }
    onState("reconnecting");
    await sleep(backoff);
    backoff = Math.min(backoff * 2, 4000);
  }
}
