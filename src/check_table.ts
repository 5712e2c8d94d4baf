/**
 * The readable table of `deno task check`.
 *
 * @module
 */

import type { CheckEvent } from "./protocol.ts";

/** Renders check events as an aligned table, one row per event. */
export function renderTable(events: CheckEvent[]): string {
  const header = ["MODULE", "TARGET", "STATUS", "REASON", "TIME", "MESSAGE"];
  const rows = events.map((e) => [
    e.module,
    e.target,
    e.status.toUpperCase(),
    e.reason ?? "",
    `${e.duration_ms.toFixed(1)} ms`,
    e.message ?? "",
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]))).join("  ").trimEnd();
  const notOk = events.filter((e) => e.status !== "ok").length;
  const summary = `${events.length} check(s): ${events.length - notOk} ok, ${notOk} not ok`;
  return [line(header), ...rows.map(line), "", summary].join("\n");
}
