// The workspace view: the members of one workspace, read with a bearer token from
// GET /v1/workspaces/{workspace}/members.
import { el, byId, setText, showError, members, token, formatTime } from "./console.js";

function tokenState() {
  setText("token-state", token.get() ? "a token is set for this tab" : "no token set");
}

function saveToken(event) {
  event.preventDefault();
  const value = byId("token").value.trim().replace(/^Bearer\s+/i, "");
  byId("token").value = "";
  if (value) token.set(value);
  tokenState();
}

function forgetToken() {
  token.clear();
  byId("token").value = "";
  tokenState();
}

function hintFor(res) {
  switch (res.status) {
    case 401:
      return token.get()
        ? "The token was refused: it may be expired, or from another issuer or audience. Use another one."
        : "This is an administrative route: enter a bearer token above.";
    case 403:
      return "The token's user may not list the members of this workspace (member:list).";
    case 404:
      return "No such workspace in the membership store.";
    default:
      return "";
  }
}

function row(ws, m) {
  const mps = (m.miniprograms || []).map((mp) => el("code", { text: mp }));
  const explore = `/ui/explorer?subject=${encodeURIComponent(m.user)}&workspace=${encodeURIComponent(ws)}`;
  const status = m.expires_at ? `${m.status} until ${formatTime(m.expires_at)}` : m.status;
  return el(
    "tr",
    { "data-user": m.user },
    el("td", {}, el("code", { text: m.user })),
    el("td", { text: m.role }),
    el("td", { class: `status-${m.status}`, text: status }),
    el("td", {}, ...(mps.length ? mps : ["—"])),
    el("td", {}, el("a", { href: explore, text: "explore" })),
  );
}

async function load(event) {
  if (event) event.preventDefault();
  const ws = byId("ws-id").value.trim();
  if (!ws) return;
  history.replaceState(null, "", `?workspace=${encodeURIComponent(ws)}`);
  const res = await members(ws);
  if (!res.ok || !res.body) {
    byId("members-section").hidden = true;
    showError("ws-error", res, hintFor(res));
    return;
  }
  showError("ws-error", null);
  const list = res.body.members;
  setText("members-title", `${res.body.workspace}: ${list.length} member${list.length === 1 ? "" : "s"}`);
  byId("members").replaceChildren(...list.map((m) => row(res.body.workspace, m)));
  setText("members-revision", `Membership revision ${res.body.revision}.`);
  byId("members-section").hidden = false;
}

byId("token-form").addEventListener("submit", saveToken);
byId("forget-token").addEventListener("click", forgetToken);
byId("workspace-form").addEventListener("submit", load);
tokenState();
const q = new URLSearchParams(location.search).get("workspace");
if (q) {
  byId("ws-id").value = q;
  load();
}
