// The mock monitoring page: a snapshot and then every change over Server-Sent
// Events (/api/stream), rendered into one table per agent. Plain DOM, no
// framework, nothing from the network but the mock itself.

import { forgetAgents, renderAgent } from "./agents.js";
import { $, clock, clockSkew, el, keyOf, reorder, setAttr, setText } from "./dom.js";
import { SPARK } from "./rows.js";

const model = {
  agents: new Map(), // id → AgentView
  checks: new Map(), // key → CheckView (history: recent entries)
  invalid: [],
  invalidCount: 0,
  stats: null,
};

/** What the rows need: which are open, their full events, and how to open one. */
const view = {
  open: new Set(), // keys of the rows whose events are shown
  full: new Map(), // key → full history entries (with details) of an opened row
  toggle(key) {
    if (view.open.delete(key)) view.full.delete(key);
    else {
      view.open.add(key);
      loadDetails(key);
    }
    schedule();
  },
};

// --- model --------------------------------------------------------------------------------

function applySnapshot(data) {
  clockSkew.ms = Date.parse(data.now) - Date.now();
  model.agents = new Map(data.agents.map((a) => [a.agent, a]));
  model.checks = new Map(data.checks.map((c) => [keyOf(c), c]));
  model.invalid = data.invalid.items;
  model.invalidCount = data.invalid.count;
  model.stats = data.stats;
  view.full.clear();
  for (const key of view.open) loadDetails(key);
  schedule();
}

function applyUpdate(data) {
  clockSkew.ms = Date.parse(data.now) - Date.now();
  model.stats = data.stats;
  if (data.agent) model.agents.set(data.agent.agent, data.agent);
  if (data.check) {
    const key = keyOf(data.check);
    const history = model.checks.get(key)?.history ?? [];
    history.push(data.entry);
    history.sort((a, b) => (a.timestamp < b.timestamp ? -1 : a.timestamp > b.timestamp ? 1 : 0));
    if (history.length > SPARK) history.splice(0, history.length - SPARK);
    model.checks.set(key, { ...data.check, history });
    const entries = view.full.get(key);
    if (entries) {
      entries.push(data.entry);
      if (entries.length > 100) entries.shift();
    }
  }
  if (data.invalid) {
    model.invalid.push(data.invalid);
    if (model.invalid.length > 100) model.invalid.shift();
    model.invalidCount = data.stats.invalid;
  }
  schedule();
}

async function loadDetails(key) {
  const [agent, instance, target] = key.split("\u0000");
  const query = new URLSearchParams({ agent, instance, target });
  try {
    const response = await fetch(`/api/checks?${query}`);
    const [check] = await response.json();
    if (check && view.open.has(key)) view.full.set(key, check.history);
  } catch { /* the stream's next snapshot retries */ }
  schedule();
}

function connect() {
  const source = new EventSource("/api/stream");
  source.addEventListener("snapshot", (e) => {
    applySnapshot(JSON.parse(e.data));
    live("live");
  });
  source.addEventListener("update", (e) => applyUpdate(JSON.parse(e.data)));
  // EventSource reconnects by itself; the next snapshot replaces everything.
  source.addEventListener("error", () => live("reconnecting"));
}

function live(state) {
  $("live").dataset.state = state;
  document.body.dataset.live = state;
  setText($("live-text"), state === "live" ? "live" : "mock unreachable, retrying…");
}

// --- rendering ----------------------------------------------------------------------------

let timer;
function schedule() {
  timer ??= setTimeout(() => {
    timer = undefined;
    render();
  }, 50);
}

function render() {
  const agents = [...model.agents.values()].sort((a, b) => (a.agent < b.agent ? -1 : 1));
  const byAgent = new Map(agents.map((a) => [a.agent, []]));
  for (const check of model.checks.values()) byAgent.get(check.agent)?.push(check);
  const container = $("agents");
  reorder(container, agents.map((a) => renderAgent(view, a, byAgent.get(a.agent))));
  forgetAgents(new Set(model.agents.keys()));
  $("empty").hidden = agents.length > 0;
  $("ws-url").textContent = `ws://${location.host}`;
  renderSummary(agents);
  renderInvalid();
}

function renderSummary(agents) {
  const total = { ok: 0, warn: 0, error: 0 };
  for (const a of agents) for (const s of ["ok", "warn", "error"]) total[s] += a.checks[s];
  const silent = agents.filter((a) => a.nodata).length;
  const stats = model.stats ?? { events: 0, missing: 0, invalid: 0 };
  const items = [
    ["agents", `${agents.length} agent${agents.length === 1 ? "" : "s"}`, ""],
    ["ok", `${total.ok} ok`, total.ok ? "ok" : ""],
    ["warn", `${total.warn} warn`, total.warn ? "warn" : ""],
    ["error", `${total.error} error`, total.error ? "error" : ""],
    ["nodata", `${silent} no data`, silent ? "error" : ""],
    ["missing", `${stats.missing} missing`, stats.missing ? "warn" : ""],
    ["invalid", `${stats.invalid} invalid`, stats.invalid ? "error" : ""],
    ["events", `${stats.events} events`, ""],
  ];
  const box = $("summary");
  if (box.children.length !== items.length) {
    box.replaceChildren(...items.map(([name]) => {
      // The invalid count leads to the list of invalid events below the agents.
      const pill = el(name === "invalid" ? "a" : "span", `pill-sum s-${name}`);
      if (name === "invalid") pill.setAttribute("href", "#invalid");
      return pill;
    }));
  }
  items.forEach(([, text, tone], i) => {
    setText(box.children[i], text);
    setAttr(box.children[i], "data-tone", tone || null);
  });
  const bad = total.error + silent;
  document.title = `${bad ? `(${bad}) ` : ""}Kozak · mock monitoring`;
}

function renderInvalid() {
  const panel = $("invalid");
  panel.hidden = model.invalidCount === 0;
  if (panel.hidden) return;
  setText($("invalid-count"), String(model.invalidCount));
  const items = model.invalid.slice(-20).reverse();
  const signature = `${model.invalidCount}`;
  if (panel.dataset.sig === signature) return;
  panel.dataset.sig = signature;
  $("invalid-rows").replaceChildren(...items.map((item) => {
    const tr = el("tr");
    const fields = el("td", "mono field");
    const reasons = el("td");
    for (const e of item.errors) {
      fields.append(el("div", "", e.field));
      reasons.append(el("div", "", e.reason));
    }
    reasons.append(el("div", "raw mono", item.raw));
    tr.append(
      el("td", "mono muted", clock(item.received_at)),
      el("td", "mono", item.agent ?? "?"),
      fields,
      reasons,
    );
    return tr;
  }));
}

connect();
setInterval(schedule, 1000); // the "ago" and "since" columns
