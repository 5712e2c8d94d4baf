// One agent's card: its header (connection, last seen, version, queue, drops,
// badges for no data, missing and invalid events) and its table of checks.

import { ago, el, keyOf, reorder, setAttr, setText, since, syncList } from "./dom.js";
import { renderDetail, renderRow } from "./rows.js";

const ui = new Map(); // agent id → its elements

function agentParts(id) {
  let parts = ui.get(id);
  if (parts) return parts;
  const root = el("section", "agent");
  root.dataset.agent = id;
  const head = el("div", "agent-head");
  const dot = el("span", "agent-dot");
  const name = el("h2", "agent-name", id);
  const badges = el("div", "badges");
  const meta = el("div", "meta");
  head.append(dot, name, badges, meta);
  const banner = el("div", "nodata-banner");
  const table = el("table", "checks");
  const thead = el("thead");
  const hr = el("tr");
  for (
    const [label, cls] of [
      ["status", "c-status"],
      ["instance", "c-inst"],
      ["target", "c-target"],
      ["reason", "c-reason"],
      ["message", "c-msg"],
      ["last", "c-dur"],
      ["recent", "c-spark"],
      ["since", "c-since"],
    ]
  ) {
    hr.append(el("th", cls, label));
  }
  thead.append(hr);
  const tbody = el("tbody");
  table.append(thead, tbody);
  const none = el("p", "no-checks", "No checks yet: this agent sends heartbeats only.");
  root.append(head, banner, table, none);
  parts = { root, dot, name, badges, meta, banner, table, tbody, none, rows: new Map() };
  ui.set(id, parts);
  return parts;
}

/** Updates (or makes) the card of agent `a` with its `checks`; returns its element. */
export function renderAgent(view, a, checks) {
  const parts = agentParts(a.agent);
  const tone = a.nodata
    ? "nodata"
    : a.checks.error
    ? "error"
    : a.checks.warn
    ? "warn"
    : a.checks.total
    ? "ok"
    : "idle";
  setAttr(parts.root, "data-nodata", String(a.nodata));
  setAttr(parts.root, "data-connected", String(a.connected));
  setAttr(parts.root, "data-tone", tone);
  const badges = [
    [a.connected ? "conn-on" : "conn-off", a.connected ? "connected" : "disconnected"],
  ];
  if (a.nodata) badges.push(["nodata", `no data for ${since(a.last_seen)}`]);
  if (a.missing) {
    badges.push(["missing", `${a.missing} event${a.missing === 1 ? "" : "s"} missing`]);
  }
  if (a.invalid) badges.push(["invalid", `${a.invalid} invalid`]);
  if (a.restarts) {
    badges.push(["restarts", `${a.restarts} restart${a.restarts === 1 ? "" : "s"}`]);
  }
  syncList(parts.badges, badges, (node, [cls, text]) => {
    node.className = `badge b-${cls}`;
    setText(node, text);
  });
  const queue = a.queue ?? {};
  const meta = [
    ["last seen", `${since(a.last_seen)} ago`],
    ["version", a.version ?? "—"],
    ["uptime", a.uptime_s === null ? "—" : ago(a.uptime_s * 1000)],
    ["heartbeat", a.interval_s === null ? "—" : a.interval_s ? `${a.interval_s}s` : "off"],
    ["queue", queue.size ?? "—"],
    ["drops", queue.dropped ?? "—"],
    ["events", a.events],
    ["run", a.run.slice(0, 8)],
  ];
  if (a.skipped_runs) meta.push(["skipped", a.skipped_runs]);
  if (a.resends) meta.push(["resends", a.resends]);
  syncList(parts.meta, meta, (node, [label, text]) => {
    if (node.children.length !== 2) node.replaceChildren(el("span", "k"), el("span", "v"));
    setText(node.children[0], label);
    setText(node.children[1], String(text));
    setAttr(node, "data-warn", label === "drops" && Number(text) > 0 ? "true" : null);
  });
  setText(
    parts.banner,
    a.nodata
      ? `No data: nothing received for ${since(a.last_seen)} (limit ${a.nodata_after_s}s, ` +
        `3 × the ${a.interval_s}s heartbeat interval). The values below are the last known.`
      : "",
  );
  parts.none.hidden = checks.length > 0;
  parts.table.hidden = checks.length === 0;
  checks.sort((x, y) =>
    x.instance < y.instance ? -1 : x.instance > y.instance ? 1 : x.target < y.target ? -1 : 1
  );
  const rows = [];
  const seen = new Set();
  for (const check of checks) {
    const key = keyOf(check);
    seen.add(key);
    const row = renderRow(view, parts, check);
    rows.push(row.tr);
    if (view.open.has(key)) rows.push(renderDetail(view, row, check));
  }
  for (const key of parts.rows.keys()) if (!seen.has(key)) parts.rows.delete(key);
  reorder(parts.tbody, rows);
  return parts.root;
}

/** Forgets the cards of agents not in `ids`. */
export function forgetAgents(ids) {
  for (const [id, parts] of ui) {
    if (!ids.has(id)) {
      parts.root.remove();
      ui.delete(id);
    }
  }
}
