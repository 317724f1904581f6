// Shared helpers of the rolegate console. Every page is a module that imports these.
// Text from the API is always set as text, never parsed as HTML.

const tokenKey = "rolegate.console.token";

// api calls the rolegate API on this origin and returns {status, ok, body, error}:
// body is the parsed JSON answer, error the {code, message} of the error shape.
export async function api(path, options = {}) {
  let resp;
  try {
    resp = await fetch(path, { ...options, cache: "no-store", credentials: "omit" });
  } catch (err) {
    return { status: 0, ok: false, body: null, error: { code: "unreachable", message: String(err) } };
  }
  let body = null;
  try {
    body = await resp.json();
  } catch {
    body = null;
  }
  const error = !resp.ok && body && body.error ? body.error : null;
  return { status: resp.status, ok: resp.ok, body, error };
}

// el makes an element with attributes and children (strings become text nodes).
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else node.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children) {
    if (c === null || c === undefined) continue;
    node.append(typeof c === "string" ? document.createTextNode(c) : c);
  }
  return node;
}

export const byId = (id) => document.getElementById(id);

// setText sets the text of the element with the id.
export function setText(id, text) {
  byId(id).textContent = text;
}

// showError fills the notice with what a failed call answered, or hides it.
export function showError(id, res, hint) {
  const box = byId(id);
  box.replaceChildren();
  if (!res) {
    box.hidden = true;
    return;
  }
  const code = res.error ? res.error.code : "error";
  const message = res.error ? res.error.message : "no answer in the error shape";
  const status = res.status ? `${res.status} ${code}` : code;
  box.append(el("strong", { text: status }), el("span", { text: message }));
  if (hint) box.append(el("div", { class: "hint", text: hint }));
  box.hidden = false;
}

// formatAge writes a number of seconds as "4 s", "3 min 12 s", "2 h 5 min", "3 d 4 h".
export function formatAge(seconds) {
  if (seconds === undefined || seconds === null) return "unknown";
  const s = Math.floor(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  return `${Math.floor(s / 86400)} d ${Math.floor((s % 86400) / 3600)} h`;
}

// formatTime writes an RFC 3339 time of the server as "2026-12-04 04:46:18 UTC".
export function formatTime(iso) {
  if (!iso) return "never";
  return iso.replace("T", " ").replace(/(\.\d+)?Z$/, " UTC");
}

// The bearer token lives in this tab's session storage only.
export const token = {
  get: () => sessionStorage.getItem(tokenKey) || "",
  set: (value) => sessionStorage.setItem(tokenKey, value),
  clear: () => sessionStorage.removeItem(tokenKey),
};

// members reads a workspace's members with the stored token.
export function members(workspace) {
  const headers = {};
  const t = token.get();
  if (t) headers.Authorization = `Bearer ${t}`;
  return api(`/v1/workspaces/${encodeURIComponent(workspace)}/members`, { headers });
}

const revisionListeners = [];
let liveRevision = "";

// onRevision calls fn with the active policy revision each time it changes.
export function onRevision(fn) {
  revisionListeners.push(fn);
  if (liveRevision) fn(liveRevision);
}

async function pollRevision() {
  const res = await api("/v1/status");
  const badge = byId("live-revision");
  if (!res.ok || !res.body) {
    badge.textContent = "status unavailable";
    return;
  }
  const rev = res.body.policy.revision || "none";
  if (rev === liveRevision) return;
  const first = liveRevision === "";
  liveRevision = rev;
  badge.textContent = `policy ${rev}`;
  badge.classList.toggle("changed", !first);
  for (const fn of revisionListeners) fn(rev);
}

pollRevision();
setInterval(pollRevision, 3000);
