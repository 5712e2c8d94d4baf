// Small DOM and formatting helpers of the mock's page. Agent data only ever
// reaches the page as text (textContent), never as markup.

/** The mock's clock minus ours, from the last message; "ago" and "since" use the mock's time. */
export const clockSkew = { ms: 0 };

export const now = () => Date.now() + clockSkew.ms;

export const $ = (id) => document.getElementById(id);

/** Identifies a check: agent, instance and target. */
export const keyOf = (c) => `${c.agent}\u0000${c.instance}\u0000${c.target}`;

export function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}
export function setText(node, text) {
  if (node.textContent !== text) node.textContent = text;
}
export function setAttr(node, name, value) {
  if (value === undefined || value === null) node.removeAttribute(name);
  else if (node.getAttribute(name) !== String(value)) node.setAttribute(name, String(value));
}

export function ago(ms) {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ${Math.floor(s / 60) % 60}m`;
  return `${Math.floor(s / 86400)}d ${Math.floor(s / 3600) % 24}h`;
}
export function since(iso) {
  return ago(now() - Date.parse(iso));
}
export function duration(ms) {
  if (ms < 10) return `${ms.toFixed(1)} ms`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(2)} s`;
}
export function clock(iso) {
  const d = new Date(iso);
  const pad = (n, w = 2) => String(n).padStart(w, "0");
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${
    pad(d.getMilliseconds(), 3)
  }`;
}
export function value(v) {
  if (typeof v === "number") return Number.isInteger(v) ? String(v) : String(+v.toFixed(3));
  const text = typeof v === "string" ? v : JSON.stringify(v);
  return text.length > 160 ? `${text.slice(0, 160)}…` : text;
}

/** Puts `nodes` into `parent` in this order, moving only what is out of place. */
export function reorder(parent, nodes) {
  nodes.forEach((node, i) => {
    if (parent.children[i] !== node) parent.insertBefore(node, parent.children[i] ?? null);
  });
  while (parent.children.length > nodes.length) parent.lastElementChild.remove();
}

/** Makes `parent` hold one child per item, updated by `update`. */
export function syncList(parent, items, update) {
  while (parent.children.length < items.length) parent.append(el("span"));
  while (parent.children.length > items.length) parent.lastElementChild.remove();
  items.forEach((item, i) => update(parent.children[i], item));
}
