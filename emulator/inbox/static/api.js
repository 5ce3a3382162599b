// The control API as the page uses it: same-origin JSON requests, with the control token when the
// emulator asks for one (asked once, kept for the tab in sessionStorage).

const TOKEN_KEY = "sms-emulator.control-token";

export class ApiError extends Error {
  constructor(status, message, field) {
    super(message);
    this.status = status;
    this.field = field ?? null;
  }
}

let askingToken = null;

export function authHeaders() {
  const token = sessionStorage.getItem(TOKEN_KEY);
  return token ? { Authorization: `Bearer ${token}` } : {};
}

// Show the token dialog; resolves once a token was entered (a wrong one is asked again on the
// next 401). One dialog at a time, however many requests were refused.
export function askForToken(message) {
  if (askingToken) return askingToken;
  const dialog = document.getElementById("token-dialog");
  const input = document.getElementById("token-input");
  document.getElementById("token-error").textContent = message || "";
  askingToken = new Promise((resolve) => {
    const form = document.getElementById("token-form");
    const done = (event) => {
      event.preventDefault();
      if (!input.value.trim()) return;
      sessionStorage.setItem(TOKEN_KEY, input.value.trim());
      form.removeEventListener("submit", done);
      dialog.close();
      askingToken = null;
      resolve();
    };
    form.addEventListener("submit", done);
    dialog.addEventListener("cancel", (event) => event.preventDefault());
    dialog.showModal();
    input.focus();
  });
  return askingToken;
}

export async function api(method, path, body) {
  for (let tries = 0; ; tries++) {
    const headers = { Accept: "application/json", ...authHeaders() };
    const init = { method, headers, credentials: "same-origin" };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    const response = await fetch(path, init);
    let answer = null;
    try {
      answer = await response.json();
    } catch {
      answer = null;
    }
    if (response.status === 401 && tries < 5) {
      const hadToken = Boolean(sessionStorage.getItem(TOKEN_KEY));
      sessionStorage.removeItem(TOKEN_KEY);
      await askForToken(hadToken ? "That token was refused; try again." : "");
      continue;
    }
    if (!response.ok) {
      const message = (answer && answer.error) || `${method} ${path} answered ${response.status}`;
      throw new ApiError(response.status, message, answer && answer.field);
    }
    return answer;
  }
}

export function query(path, params) {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== "") search.set(name, String(value));
  }
  const text = search.toString();
  return text ? `${path}?${text}` : path;
}
