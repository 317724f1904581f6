// The decision explorer: one POST /v1/decisions from a form, its answer with the
// reasons, and the same request as a curl command.
import { api, el, byId, setText, showError, members, token } from "./console.js";

const recentKey = "rolegate.console.recent";
const fields = ["subject", "workspace", "action", "resource-id", "attributes"];

// known holds the members of workspaces read with the token, by workspace.
const known = new Map();

function recent() {
  try {
    return JSON.parse(sessionStorage.getItem(recentKey)) || { subjects: [], workspaces: [] };
  } catch {
    return { subjects: [], workspaces: [] };
  }
}

function remember(subject, workspace) {
  const r = recent();
  const add = (list, v) => [v, ...list.filter((x) => x !== v)].slice(0, 12);
  r.subjects = add(r.subjects, subject);
  r.workspaces = add(r.workspaces, workspace);
  sessionStorage.setItem(recentKey, JSON.stringify(r));
  fillRecent();
}

function options(id, items) {
  byId(id).replaceChildren(...items.map(([value, label]) => el("option", { value, label })));
}

function fillRecent() {
  const r = recent();
  options("workspaces", r.workspaces.map((w) => [w, "recent"]));
  if (!known.has(byId("workspace").value.trim())) {
    options("subjects", r.subjects.map((s) => [s, "recent"]));
  }
}

async function fillOperations() {
  const res = await api("/v1/matrix");
  if (!res.ok || !res.body) return;
  const ops = new Set();
  for (const t of res.body.workspace_types) for (const op of t.operations) ops.add(op);
  options("operations", [...ops].sort().map((op) => [op, ""]));
}

// fillMembers lists the workspace's members as subjects, when a token is at hand.
async function fillMembers() {
  const ws = byId("workspace").value.trim();
  if (!ws || !token.get() || known.has(ws)) return fillMiniPrograms();
  const res = await members(ws);
  if (res.ok && res.body) known.set(ws, res.body.members);
  if (known.has(ws)) {
    options("subjects", known.get(ws).map((m) => [m.user, `${m.role}, ${m.status}`]));
  }
  fillMiniPrograms();
}

function membership() {
  const list = known.get(byId("workspace").value.trim()) || [];
  return list.find((m) => m.user === byId("subject").value.trim());
}

function fillMiniPrograms() {
  const m = membership();
  options("miniprograms", ((m && m.miniprograms) || []).map((mp) => [mp, "assigned"]));
}

// request builds the decision request from the form, or throws with what is wrong.
function request() {
  const v = (id) => byId(id).value.trim();
  const req = { subject: v("subject"), action: v("action"), resource: { workspace: v("workspace") } };
  if (v("resource-id")) req.resource.id = v("resource-id");
  if (v("attributes")) {
    let attrs;
    try {
      attrs = JSON.parse(v("attributes"));
    } catch (err) {
      throw new Error(`attributes are not JSON: ${err.message}`);
    }
    if (attrs === null || typeof attrs !== "object" || Array.isArray(attrs)) {
      throw new Error("attributes must be a JSON object, such as {\"state\": \"in_review\"}");
    }
    req.resource.attributes = attrs;
  }
  return req;
}

const quote = (s) => `'${s.replaceAll("'", "'\\''")}'`;

function showCurl() {
  let body;
  try {
    body = JSON.stringify(request());
  } catch (err) {
    setText("curl", `# ${err.message}`);
    return;
  }
  setText(
    "curl",
    `curl -s ${quote(`${location.origin}/v1/decisions`)} \\\n` +
      `  -H 'Content-Type: application/json' \\\n  -d ${quote(body)}`,
  );
}

function showFact(req) {
  const box = byId("membership-fact");
  const m = membership();
  box.hidden = !token.get();
  if (box.hidden) return;
  if (!known.has(req.resource.workspace)) {
    box.textContent = `The members of ${req.resource.workspace} could not be read with the token.`;
  } else if (!m) {
    box.textContent = `${req.subject} has no membership in ${req.resource.workspace}.`;
  } else {
    const mps = m.miniprograms && m.miniprograms.length ? m.miniprograms.join(", ") : "none";
    box.textContent = `Membership in the store: ${m.user} is ${m.role} of ${m.workspace}, ` +
      `${m.status}, assigned mini programs: ${mps}.`;
  }
}

function showAnswer(req, d) {
  const answer = byId("answer");
  answer.textContent = d.allow ? "Allowed" : "Denied";
  answer.className = `answer ${d.allow ? "allow" : "deny"}`;
  byId("reasons").replaceChildren(
    ...d.reasons.map((r) => el("tr", {}, el("td", {}, el("code", { text: r.code })), el("td", { text: r.message }))),
  );
  setText("decision-id", d.decision_id);
  setText("decision-policy", d.revision.policy);
  setText("decision-membership", d.revision.membership);
  showFact(req);
  byId("explorer-empty").hidden = true;
  byId("result").hidden = false;
}

async function decide(event) {
  event.preventDefault();
  let req;
  try {
    req = request();
  } catch (err) {
    byId("result").hidden = true;
    byId("explorer-empty").hidden = true;
    showError("explorer-error", { status: 0, error: { code: "invalid_attributes", message: err.message } });
    return;
  }
  const res = await api("/v1/decisions", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(req),
  });
  if (!res.ok || !res.body) {
    byId("result").hidden = true;
    byId("explorer-empty").hidden = true;
    showError("explorer-error", res, "The service refused the request; nothing was decided.");
    return;
  }
  showError("explorer-error", null);
  remember(req.subject, req.resource.workspace);
  await fillMembers();
  showAnswer(req, res.body);
}

function prefill() {
  const q = new URLSearchParams(location.search);
  for (const [param, id] of [["subject", "subject"], ["workspace", "workspace"], ["action", "action"], ["id", "resource-id"]]) {
    if (q.get(param)) byId(id).value = q.get(param);
  }
  setText("explorer-hint", token.get() ? "members are suggested from the membership API" :
    "with a token (Workspace page), members and their mini programs are suggested");
}

prefill();
fillRecent();
fillOperations();
fillMembers();
showCurl();
for (const id of fields) byId(id).addEventListener("input", showCurl);
byId("workspace").addEventListener("change", fillMembers);
byId("subject").addEventListener("change", fillMiniPrograms);
byId("explorer-form").addEventListener("submit", decide);
