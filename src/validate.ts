/**
 * `deno task validate`: everything about a configuration that can be known
 * without contacting any target or the monitoring server — its instances,
 * the permissions the agent will get, the warnings and every problem — as a
 * report for a person. And the instance selection `deno task check NAME…`
 * uses.
 *
 * @module
 */

import type { AgentConfig } from "./config.ts";
import type { CheckInstance } from "./config_modules.ts";
import type { ConfigProblem } from "./config_agent.ts";
import { formatProblems } from "./config.ts";

/** What a validation found. */
export interface Validation {
  /** Undefined when an agent-wide problem stopped the resolution. */
  config?: AgentConfig;
  /** The agent's flags for `deno task start`, when the configuration resolved. */
  flags?: string[];
  /** Agent-wide problems, and a flags problem (a list too long to pass). */
  problems: ConfigProblem[];
  /** Warnings that only the launcher sees (variables of the process environment). */
  extraWarnings?: { variable: string; message: string }[];
}

/** Exit code: 0 when nothing is wrong, 2 otherwise (an instance's config error too). */
export function validationCode(v: Validation): number {
  const instanceErrors = v.config?.checks.some((c) => !c.ok) ?? false;
  return v.problems.length > 0 || !v.config || instanceErrors ? 2 : 0;
}

const seconds = (ms: number) => `${Number((ms / 1000).toFixed(3))} s`;

/** One row per instance: its units' targets together. */
function instanceRows(checks: CheckInstance[]): string[][] {
  const rows = new Map<string, { unit: CheckInstance; targets: string[]; errors: number }>();
  for (const unit of checks) {
    const row = rows.get(unit.instance) ?? { unit, targets: [], errors: 0 };
    row.targets.push(...unit.targets);
    if (!unit.ok) row.errors += 1;
    rows.set(unit.instance, row);
  }
  return [...rows.values()].map(({ unit, targets, errors }) => [
    unit.instance,
    unit.module.name,
    targets.length > 3
      ? `${targets.slice(0, 3).join(", ")} … (${targets.length})`
      : targets.join(", "),
    seconds(unit.intervalMs),
    seconds(unit.timeoutMs),
    Object.entries(unit.labels).map(([k, v]) => `${k}=${v}`).join(",") || "-",
    errors > 0 ? "config error" : "ok",
  ]);
}

function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    "  " + cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]))).join("  ");
  return [line(header), ...rows.map(line)];
}

/** The report `deno task validate` prints. */
export function renderValidation(v: Validation): string {
  const out: string[] = [];
  const code = validationCode(v);
  if (v.config) {
    const { config } = v;
    const agent = config.agentIdFromHostname ? "the host name (AGENT_ID is unset)" : config.agentId;
    out.push(`agent: ${agent}; monitoring: ${config.monitoringUrl.href}`);
    if (config.checksFile) out.push(`checks file: ${config.checksFile}`);
    const rows = instanceRows(config.checks);
    out.push("", `instances (${rows.length}):`);
    if (rows.length === 0) {
      out.push("  none: heartbeats only (ENABLED_MODULES and the checks file are empty)");
    } else {
      out.push(
        ...table(["INSTANCE", "MODULE", "TARGETS", "INTERVAL", "TIMEOUT", "LABELS", "STATE"], rows),
      );
    }
    if (v.flags) {
      out.push(
        "",
        "permissions of the agent (deno task start):",
        ...v.flags.map((f) => `  ${f}`),
      );
    }
    const warnings = [...config.warnings, ...(v.extraWarnings ?? [])];
    if (warnings.length > 0) {
      out.push("", "warnings:", ...warnings.map((w) => `  warning: ${w.variable}: ${w.message}`));
    }
  }
  const instanceProblems = (v.config?.checks ?? []).filter((c) => !c.ok)
    .map((c) => `  ${c.instance}: ${!c.ok ? c.error : ""}`);
  if (v.problems.length > 0 || instanceProblems.length > 0) {
    out.push("", "problems:");
    if (v.problems.length > 0) {
      out.push(...formatProblems(v.problems).split("\n").map((l) => `  ${l}`));
    }
    out.push(...[...new Set(instanceProblems)]);
  }
  out.push("", code === 0 ? "valid" : "not valid");
  return out.join("\n").replace(/^\n/, "");
}

/**
 * The units `deno task check NAME…` runs: those of instances named so, or of
 * modules named so. Names nothing matches are returned too (exit code 2).
 */
export function selectInstances(
  checks: CheckInstance[],
  names: string[],
): { selected: CheckInstance[]; unknown: string[] } {
  if (names.length === 0) return { selected: checks, unknown: [] };
  const wanted = new Set(names);
  const selected = checks.filter((c) => wanted.has(c.instance) || wanted.has(c.module.name));
  const unknown = names.filter((n) => !checks.some((c) => c.instance === n || c.module.name === n));
  return { selected, unknown };
}
