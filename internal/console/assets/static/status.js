// The status page: GET /v1/status, refreshed every two seconds.
import { api, formatAge, formatTime, setText, showError, byId } from "./console.js";

// samples keeps (time, allowed, denied) for the last minute, to show recent counts.
const samples = [];

function describeSource(src) {
  if (!src) return "built into the binary";
  return `${src.source.kind} ${src.source.location}`;
}

function describeError(src) {
  if (!src || !src.last_error) return "none";
  const e = src.last_error;
  return `${e.stage} at ${formatTime(e.at)}: ${e.error}`;
}

function recent(d) {
  const now = Date.now();
  samples.push({ at: now, allowed: d.allowed, denied: d.denied });
  while (samples.length > 1 && now - samples[0].at > 60000) samples.shift();
  const first = samples[0];
  const span = Math.round((now - first.at) / 1000);
  if (span === 0) return "measuring…";
  return `${d.allowed - first.allowed} allowed, ${d.denied - first.denied} denied in the last ${span} s`;
}

function setHealth(id, healthy, goodText, badText) {
  const node = byId(id);
  node.textContent = healthy ? goodText : badText;
  node.className = healthy ? "ok" : "bad";
}

function render(st) {
  const p = st.policy;
  setText("policy-revision", p.revision || "none");
  setHealth("policy-ready", p.ready, "ready", `not ready: ${p.reason || "unknown"}`);
  setText("policy-age", p.activated_at ? `${formatAge(p.age_seconds)}, since ${formatTime(p.activated_at)}` : "no policy");
  setText("policy-source", describeSource(p.source));
  setText("policy-refresh", p.source ? formatTime(p.source.last_refresh) : "not polled: built in");
  setText("policy-last-error", describeError(p.source));

  const m = st.membership;
  setText("store-kind", m.store || "unknown");
  setText("membership-revision", m.revision || "unknown");
  setHealth("store-health", m.healthy, "healthy", `unhealthy: ${m.error || "unknown"}`);
  setText("store-cache", m.cache ? `${m.cache.hits} hits, ${m.cache.misses} misses` : "none");

  const d = st.decisions;
  setText("decisions-allowed", String(d.allowed));
  setText("decisions-denied", String(d.denied));
  setText("decisions-recent", recent(d));
  setText("decision-cache", `${d.cache.hits} hits, ${d.cache.misses} misses`);
  setText("started-at", formatTime(st.started_at));
}

async function refresh() {
  const res = await api("/v1/status");
  if (!res.ok || !res.body) {
    showError("status-error", res, "The service did not answer its status.");
    return;
  }
  showError("status-error", null);
  render(res.body);
}

refresh();
setInterval(refresh, 2000);
