// The mock monitoring page: a snapshot and then every change over Server-Sent
// Events (/api/stream), rendered into one table per agent. Plain DOM, no
// framework, nothing from the network but the mock itself. Agent data is
// only ever put into the page as text (textContent), never as markup.
"use strict";

(() => {
  const SPARK = 40; // entries a sparkline shows
  const DETAIL = 25; // events an opened row lists
  const COLUMNS = 8;

  const model = {
    agents: new Map(), // id → AgentView
    checks: new Map(), // key → CheckView (history: recent entries)
    invalid: [],
    invalidCount: 0,
    stats: null,
    offsetMs: 0, // the mock's clock minus ours
  };
  const open = new Set(); // keys of the rows whose events are shown
  const full = new Map(); // key → full history entries (with details) of an opened row
  const ui = new Map(); // agent id → its elements

  const $ = (id) => document.getElementById(id);
  const keyOf = (c) => `${c.agent}\u0000${c.instance}\u0000${c.target}`;
  const now = () => Date.now() + model.offsetMs;

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }
  function setText(node, text) {
    if (node.textContent !== text) node.textContent = text;
  }
  function setAttr(node, name, value) {
    if (value === undefined || value === null) node.removeAttribute(name);
    else if (node.getAttribute(name) !== String(value)) node.setAttribute(name, String(value));
  }

  function ago(ms) {
    const s = Math.max(0, Math.floor(ms / 1000));
    if (s < 60) return `${s}s`;
    if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
    if (s < 86400) return `${Math.floor(s / 3600)}h ${Math.floor(s / 60) % 60}m`;
    return `${Math.floor(s / 86400)}d ${Math.floor(s / 3600) % 24}h`;
  }
  function since(iso) {
    return ago(now() - Date.parse(iso));
  }
  function duration(ms) {
    if (ms < 10) return `${ms.toFixed(1)} ms`;
    if (ms < 1000) return `${Math.round(ms)} ms`;
    return `${(ms / 1000).toFixed(2)} s`;
  }
  function clock(iso) {
    const d = new Date(iso);
    const pad = (n, w = 2) => String(n).padStart(w, "0");
    return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${
      pad(d.getMilliseconds(), 3)
    }`;
  }
  function value(v) {
    if (typeof v === "number") return Number.isInteger(v) ? String(v) : String(+v.toFixed(3));
    const text = typeof v === "string" ? v : JSON.stringify(v);
    return text.length > 160 ? `${text.slice(0, 160)}…` : text;
  }

  // --- model --------------------------------------------------------------------------------

  function applySnapshot(data) {
    model.offsetMs = Date.parse(data.now) - Date.now();
    model.agents = new Map(data.agents.map((a) => [a.agent, a]));
    model.checks = new Map(data.checks.map((c) => [keyOf(c), c]));
    model.invalid = data.invalid.items;
    model.invalidCount = data.invalid.count;
    model.stats = data.stats;
    full.clear();
    for (const key of open) loadDetails(key);
    schedule();
  }

  function applyUpdate(data) {
    model.offsetMs = Date.parse(data.now) - Date.now();
    model.stats = data.stats;
    if (data.agent) model.agents.set(data.agent.agent, data.agent);
    if (data.check) {
      const key = keyOf(data.check);
      const history = model.checks.get(key)?.history ?? [];
      history.push(data.entry);
      history.sort((a, b) => (a.timestamp < b.timestamp ? -1 : a.timestamp > b.timestamp ? 1 : 0));
      if (history.length > SPARK) history.splice(0, history.length - SPARK);
      model.checks.set(key, { ...data.check, history });
      const entries = full.get(key);
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
      if (check && open.has(key)) full.set(key, check.history);
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
    const wanted = agents.map((a) => renderAgent(a, byAgent.get(a.agent)));
    reorder(container, wanted);
    for (const [id, parts] of ui) {
      if (!model.agents.has(id)) {
        parts.root.remove();
        ui.delete(id);
      }
    }
    $("empty").hidden = agents.length > 0;
    $("ws-url").textContent = `ws://${location.host}`;
    renderSummary(agents);
    renderInvalid();
  }

  /** Puts `nodes` into `parent` in this order, moving only what is out of place. */
  function reorder(parent, nodes) {
    nodes.forEach((node, i) => {
      if (parent.children[i] !== node) parent.insertBefore(node, parent.children[i] ?? null);
    });
    while (parent.children.length > nodes.length) parent.lastElementChild.remove();
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

  function renderAgent(a, checks) {
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
      const row = renderRow(parts, key, check);
      rows.push(row.tr);
      if (open.has(key)) rows.push(renderDetail(row, key, check));
    }
    for (const key of parts.rows.keys()) if (!seen.has(key)) parts.rows.delete(key);
    reorder(parts.tbody, rows);
    return parts.root;
  }

  /** Makes `parent` hold one child per item, updated by `update`. */
  function syncList(parent, items, update) {
    while (parent.children.length < items.length) parent.append(el("span"));
    while (parent.children.length > items.length) parent.lastElementChild.remove();
    items.forEach((item, i) => update(parent.children[i], item));
  }

  function renderRow(parts, key, c) {
    let row = parts.rows.get(key);
    if (!row) {
      const tr = el("tr", "check");
      tr.tabIndex = 0;
      const cells = Array.from({ length: COLUMNS }, () => el("td"));
      tr.append(...cells);
      const pill = el("span", "pill");
      cells[0].append(pill);
      const inst = el("div", "inst");
      const sub = el("div", "sub");
      cells[1].append(inst, sub);
      const toggle = () => {
        if (open.has(key)) open.delete(key);
        else {
          open.add(key);
          loadDetails(key);
        }
        tr.setAttribute("aria-expanded", String(open.has(key)));
        schedule();
      };
      tr.addEventListener("click", toggle);
      tr.addEventListener("keydown", (e) => {
        if (e.key === "Enter" || e.key === " ") {
          e.preventDefault();
          toggle();
        }
      });
      tr.setAttribute("aria-expanded", "false");
      row = { tr, cells, pill, inst, sub, spark: "" };
      parts.rows.set(key, row);
    }
    const { tr, cells } = row;
    tr.dataset.agent = c.agent;
    tr.dataset.instance = c.instance;
    tr.dataset.target = c.target;
    setAttr(tr, "data-status", c.status);
    setAttr(tr, "data-reason", c.reason ?? null);
    setAttr(tr, "data-module", c.module);
    row.pill.className = `pill s-${c.status}`;
    setText(row.pill, c.status);
    setText(row.inst, c.instance);
    const labels = Object.entries(c.labels).map(([k, v]) => `${k}=${v}`).join(" ");
    setText(row.sub, labels ? `${c.module} · ${labels}` : c.module);
    setText(cells[2], c.target);
    cells[2].className = "mono";
    setText(cells[3], c.reason ?? "—");
    cells[3].className = c.reason ? `mono reason s-${c.status}` : "mono muted";
    setText(cells[4], c.message ?? "");
    cells[4].className = "msg";
    setAttr(cells[4], "title", c.message ?? null);
    setText(cells[5], duration(c.duration_ms));
    cells[5].className = "mono num";
    const signature = c.history.map((h) => h.id).join();
    if (row.spark !== signature) {
      row.spark = signature;
      cells[6].replaceChildren(sparkline(c.history));
    }
    setText(cells[7], since(c.changed_at));
    cells[7].className = "mono num muted";
    setAttr(cells[7], "title", `${c.status} since ${new Date(c.changed_at).toLocaleString()}`);
    return row;
  }

  const SVG = "http://www.w3.org/2000/svg";
  function bar(x, y, height, className) {
    const rect = document.createElementNS(SVG, "rect");
    for (const [k, v] of [["x", x], ["y", y], ["width", 3], ["height", height], ["rx", 0.5]]) {
      rect.setAttribute(k, String(v));
    }
    rect.setAttribute("class", className);
    return rect;
  }
  function sparkline(history) {
    const entries = history.slice(-SPARK);
    const svg = document.createElementNS(SVG, "svg");
    const width = SPARK * 4;
    svg.setAttribute("viewBox", `0 0 ${width} 24`);
    svg.setAttribute("class", "spark");
    svg.setAttribute("preserveAspectRatio", "none");
    const max = Math.max(1, ...entries.map((e) => e.duration_ms));
    // Empty slots first, so the newest result is always at the right edge, as in Gatus.
    for (let i = entries.length; i < SPARK; i++) {
      svg.append(bar(width - (i + 1) * 4, 21, 3, "slot"));
    }
    entries.forEach((e, i) => {
      // Square root: a 5 s timeout next to 1 ms successes should not flatten them to nothing.
      const height = Math.max(3, Math.round(22 * Math.sqrt(e.duration_ms / max)));
      const rect = bar(width - (entries.length - i) * 4, 24 - height, height, `s-${e.status}`);
      const title = document.createElementNS(SVG, "title");
      title.textContent = `${clock(e.timestamp)} ${e.status} ${duration(e.duration_ms)}`;
      rect.append(title);
      svg.append(rect);
    });
    return svg;
  }

  function renderDetail(row, key, check) {
    row.detail ??= el("tr", "detail");
    const entries = (full.get(key) ?? check.history).slice(-DETAIL).reverse();
    // Rebuilt only when something changed, so a text selection in it survives the clock ticking.
    const signature = entries.map((e) => `${e.id}${e.details ? "+" : ""}`).join();
    if (row.detailSig === signature) return row.detail;
    row.detailSig = signature;
    const cell = el("td");
    cell.colSpan = COLUMNS;
    const box = el("div", "detail-box");
    const title = el("div", "detail-title");
    title.append(
      el("strong", "", `${check.instance} → ${check.target}`),
      el("span", "muted", ` · ${check.module} · ${check.events} events · newest first`),
    );
    const list = el("table", "events");
    for (const e of entries) {
      const tr = el("tr");
      const status = el("td");
      status.append(el("span", `pill s-${e.status}`, e.status));
      const details = el("td", "kvs");
      for (const [k, v] of Object.entries(e.details ?? {})) {
        const kv = el("span", "kv");
        kv.append(el("span", "k", k), el("span", "v", value(v)));
        details.append(kv);
      }
      if (!e.details) details.append(el("span", "muted", "loading…"));
      tr.append(
        el("td", "mono muted", clock(e.timestamp)),
        el("td", "mono muted", `#${e.seq}`),
        status,
        el("td", `mono reason s-${e.status}`, e.reason ?? ""),
        el("td", "mono num", duration(e.duration_ms)),
        el("td", "msg-full", e.message ?? ""),
        details,
      );
      list.append(tr);
    }
    box.append(title, list);
    cell.append(box);
    row.detail.replaceChildren(cell);
    return row.detail;
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
})();
