// One check's row of an agent table, its sparkline, and the list of its recent
// events shown when the row is opened.

import { clock, duration, el, keyOf, setAttr, setText, since, value } from "./dom.js";

export const SPARK = 40; // entries a sparkline shows
const DETAIL = 25; // events an opened row lists
export const COLUMNS = 8;

/**
 * Updates (or makes) the row of check `c` in `parts.rows`; `view.open` holds the opened rows,
 * `view.toggle(key)` opens or closes one.
 */
export function renderRow(view, parts, c) {
  const key = keyOf(c);
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
      view.toggle(key);
      tr.setAttribute("aria-expanded", String(view.open.has(key)));
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

/** The opened row's recent events, newest first, with their details. */
export function renderDetail(view, row, check) {
  const key = keyOf(check);
  row.detail ??= el("tr", "detail");
  const entries = (view.full.get(key) ?? check.history).slice(-DETAIL).reverse();
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
