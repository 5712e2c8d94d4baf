/**
 * `deno task status` as text: the agent's state in the manner of
 * `datadog-agent status` — a header block, then a table of instances, then
 * the messages of those that are not ok.
 *
 * @module
 */

import type { AgentStatus } from "../status_file.ts";

/** `1h 2m 3s`, `4m 5s`, `6s`. */
export function formatUptime(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const parts: string[] = [];
  const d = Math.floor(s / 86_400);
  const h = Math.floor((s % 86_400) / 3_600);
  const m = Math.floor((s % 3_600) / 60);
  if (d) parts.push(`${d}d`);
  if (d || h) parts.push(`${h}h`);
  if (d || h || m) parts.push(`${m}m`);
  parts.push(`${s % 60}s`);
  return parts.join(" ");
}

/** How long ago `iso` was, from `nowMs`: `3 s ago`, `2 min ago`. */
export function ago(iso: string, nowMs: number): string {
  const s = Math.max(0, Math.round((nowMs - Date.parse(iso)) / 1000));
  if (s < 120) return `${s} s ago`;
  if (s < 7_200) return `${Math.round(s / 60)} min ago`;
  return `${Math.round(s / 3_600)} h ago`;
}

/** A duration in ms as a reader wants it: `0.4 ms`, `12 ms`, `1.52 s`. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return "-";
  if (ms < 10) return `${Math.round(ms * 10) / 10} ms`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return `${Math.round(ms / 10) / 100} s`;
}

/** Rows padded into columns, two spaces apart. */
export function table(rows: string[][]): string[] {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i])).join("  ").trimEnd());
}

/** The whole report; `source` says where the status came from. */
export function renderStatus(status: AgentStatus, source: string, nowMs: number): string {
  const lines: string[] = [];
  const q = status.queue;
  const head: [string, string][] = [
    ["Agent", `${status.agent}${status.pid ? ` (pid ${status.pid})` : ""}`],
    ["Version", status.version],
    ["Uptime", formatUptime(status.uptime_s)],
    ["Source", `${source} (as of ${ago(status.ts, nowMs)})`],
    ["Monitoring", status.connected ? "connected" : "not connected (events are queued)"],
    [
      "Queue",
      `${q.size}${q.max ? ` of ${q.max}` : ""} event(s) waiting, ${q.dropped} dropped since start`,
    ],
    ["Skipped runs", String(status.skipped_runs)],
  ];
  if (status.metrics_listen) head.push(["Metrics", `http://${status.metrics_listen}/metrics`]);
  const rw = status.remote_write;
  if (rw) {
    const last = rw.last_success
      ? `last accepted ${ago(rw.last_success, nowMs)}`
      : "none accepted yet";
    head.push([
      "Remote write",
      `${rw.url}: ${rw.queued} sample(s) queued, ${rw.dropped} dropped, ${rw.sent} sent, ${last}`,
    ]);
    if (rw.last_error) head.push(["", `failing: ${rw.last_error}`]);
  }
  lines.push("Kozak Agent status", "==================", "");
  const width = Math.max(...head.map(([k]) => k.length)) + 1;
  for (const [key, value] of head) {
    lines.push(`  ${(key ? key + ":" : "").padEnd(width)}  ${value}`);
  }
  const instances = status.instances ?? [];
  lines.push("", `Instances (${instances.length})`, "");
  if (instances.length === 0) {
    lines.push("  no check has reported yet");
  } else {
    const rows = [["INSTANCE", "MODULE", "TARGET", "STATUS", "REASON", "LAST RUN", "DURATION"]];
    for (const i of instances) {
      rows.push([
        i.instance,
        i.module,
        i.target,
        i.status,
        i.reason ?? "-",
        `${i.at.slice(11, 19)} (${ago(i.at, nowMs)})`,
        formatDuration(i.duration_ms),
      ]);
    }
    lines.push(...table(rows).map((l) => `  ${l}`));
    const problems = instances.filter((i) => i.status !== "ok" && i.message);
    if (problems.length > 0) {
      lines.push("", "Not ok", "");
      for (const i of problems) lines.push(`  ${i.instance} ${i.target}: ${i.message}`);
    }
  }
  return lines.join("\n");
}
