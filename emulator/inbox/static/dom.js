// Building elements. Every value from the emulator goes in as text (textContent or an attribute
// set with setAttribute), never as markup: a message's text is data.

export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "class") element.className = value;
    else if (name === "dataset") Object.assign(element.dataset, value);
    else if (name.startsWith("on")) element.addEventListener(name.slice(2), value);
    else if (value === true) element.setAttribute(name, "");
    else element.setAttribute(name, String(value));
  }
  append(element, children);
  return element;
}

function append(element, children) {
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    if (Array.isArray(child)) append(element, child);
    else if (child instanceof Node) element.appendChild(child);
    else element.appendChild(document.createTextNode(String(child)));
  }
}

export function replace(element, ...children) {
  element.replaceChildren();
  append(element, children);
}

// "2026-01-01T00:00:05.000000Z" -> "00:00:05" on the emulated clock's day, "Jan 1 00:00:05"
// otherwise (UTC: the emulated clock is what matters, not the viewer's zone).
let emulatedNow = null;

// The emulated time (the clock bar sets it), which "today" means for shortTime.
export function setNow(iso) {
  emulatedNow = iso;
}

export function shortTime(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const time = date.toISOString().slice(11, 19);
  const sameDay = emulatedNow && emulatedNow.slice(0, 10) === date.toISOString().slice(0, 10);
  if (sameDay) return time;
  const day = date.toLocaleDateString("en-US", { month: "short", day: "numeric", timeZone: "UTC" });
  return `${day} ${time}`;
}

export function fullTime(iso) {
  if (!iso) return "";
  return iso.replace("T", " ").replace(/\.(\d{3})\d*Z$/, ".$1 UTC");
}

export function debounce(fn, ms) {
  let timer = null;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}

export function prettyJson(text) {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}
