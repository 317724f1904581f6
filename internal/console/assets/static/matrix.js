// The matrix page: GET /v1/matrix, shown again whenever the policy revision changes.
import { api, el, byId, showError, onRevision, formatTime } from "./console.js";

const scopeClass = {
  "✓": "scope-any",
  A: "scope-assigned",
  "✓+": "scope-merchants",
  own: "scope-own",
  "×": "scope-denied",
};

let shown = "";

function legend(scopes) {
  byId("matrix-legend").replaceChildren(
    ...scopes.map((s) =>
      el("li", {}, el("span", { class: `scope ${scopeClass[s.symbol] || ""}`, text: s.symbol }), s.meaning),
    ),
  );
}

function cell(table, op, role) {
  const scope = (table.cells[op] || {})[role] || "×";
  const link = `/ui/explorer?action=${encodeURIComponent(op)}`;
  return el(
    "td",
    { "data-op": op, "data-role": role, title: `${role}: ${op}` },
    el("a", { href: link, class: `scope ${scopeClass[scope] || ""}`, text: scope }),
  );
}

function table(t) {
  const head = el(
    "tr",
    {},
    el("th", { text: "operation" }),
    ...t.roles.map((role, i) => el("th", { title: role }, t.titles[i], el("small", { text: role }))),
  );
  const rows = t.operations.map((op) =>
    el("tr", { "data-op": op }, el("td", {}, el("code", { text: op })), ...t.roles.map((r) => cell(t, op, r))),
  );
  return el(
    "section",
    { class: "matrix-section", "data-workspace-type": t.workspace_type },
    el("h2", { text: `${t.workspace_type} workspace` }),
    el(
      "div",
      { class: "table-wrap" },
      el("table", { class: "matrix" }, el("thead", {}, head), el("tbody", {}, ...rows)),
    ),
  );
}

function filter() {
  const q = byId("matrix-filter").value.trim().toLowerCase();
  for (const row of document.querySelectorAll("tr[data-op]")) {
    row.hidden = q !== "" && !row.dataset.op.toLowerCase().includes(q);
  }
}

// load shows the active policy's matrix and reports whether it could.
async function load() {
  const res = await api("/v1/matrix");
  if (!res.ok || !res.body) {
    showError("matrix-error", res, "The matrix could not be computed from the active policy.");
    return false;
  }
  showError("matrix-error", null);
  const m = res.body;
  shown = m.policy_revision;
  byId("matrix-meta").replaceChildren(
    "Policy revision ",
    el("code", { id: "matrix-revision", text: m.policy_revision }),
    `, computed at ${formatTime(m.computed_at)}.`,
  );
  legend(m.scopes);
  byId("matrix-tables").replaceChildren(...m.workspace_types.map(table));
  filter();
  return true;
}

// wanted is the active revision as the status last said; one load runs at a time, and
// another follows when the revision moved on meanwhile.
let wanted = "";
let loading = false;

async function reload() {
  if (loading) return;
  loading = true;
  const asked = wanted;
  let ok = false;
  try {
    ok = await load();
  } finally {
    loading = false;
  }
  if (ok && wanted !== asked && wanted !== shown) reload();
}

byId("matrix-filter").addEventListener("input", filter);
onRevision((rev) => {
  wanted = rev;
  if (rev !== shown) reload();
});
reload();
