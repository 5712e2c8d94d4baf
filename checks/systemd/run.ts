/**
 * One run of the systemd check: one `systemctl show` for every unit (phase
 * `exec`), one result per unit. Loaded by `systemd.load()` only when the
 * module is enabled.
 *
 * @module
 */

import { type CheckResult, Failure, type RunContext } from "../../src/check.ts";
import type { SystemdConfig } from "./config.ts";
import { judgeUnit, type RestartMark } from "./judge.ts";
import { parseShow } from "./show_output.ts";
import { MAX_OUTPUT_BYTES, runSystemctl, type SystemctlRun } from "./systemctl.ts";

/** The properties asked for, comma-joined into one `--property=`. */
export const PROPERTIES: readonly string[] = [
  "LoadState",
  "ActiveState",
  "SubState",
  "NRestarts",
  "ActiveEnterTimestamp",
  "StateChangeTimestamp",
  "MainPID",
];

/** The arguments of the one systemctl call: options, then `--`, then the units. */
export function systemctlArgs(units: readonly string[]): string[] {
  return ["show", "--no-pager", `--property=${PROPERTIES.join(",")}`, "--", ...units];
}

/** The same failure for every unit: systemctl gave no answer for any of them. */
function everyUnit(config: SystemdConfig, failure: Failure): CheckResult[] {
  return config.units.map((u) => failure.result(u.target));
}

/** One `systemctl show` for every unit, one result per unit. */
export async function run(
  config: SystemdConfig,
  { signal, memory, phase = () => {} }: RunContext,
): Promise<CheckResult[]> {
  const unique = [...new Set(config.units.map((u) => u.unit))];
  phase("exec");
  const outcome = await runSystemctl(systemctlArgs(unique), signal);
  if (outcome.kind !== "exited" || outcome.code !== 0) {
    return everyUnit(config, systemctlFailure(outcome));
  }
  const parsed = parseShow(outcome.stdout);
  if (!parsed.ok) {
    const message =
      `systemctl show printed something other than its property list: ${parsed.reason}`;
    return everyUnit(config, new Failure("protocol", message));
  }
  if (parsed.blocks.length !== unique.length) {
    const message = `systemctl show printed ${parsed.blocks.length} property blocks for ` +
      `${unique.length} unit${unique.length === 1 ? "" : "s"}`;
    return everyUnit(config, new Failure("protocol", message));
  }
  const byUnit = new Map(unique.map((unit, i) => [unit, parsed.blocks[i]]));
  const now = new Date().toISOString();
  return config.units.map(({ target, unit }) => {
    const key = `restarts:${target}`;
    const previous = memory.get(key) as RestartMark | undefined;
    const { result, mark } = judgeUnit(target, unit, byUnit.get(unit)!, previous, now);
    if (mark) memory.set(key, mark);
    return result;
  });
}

/** Why systemctl itself gave no answer (phase `exec`). */
function systemctlFailure(outcome: SystemctlRun): Failure {
  const exec = { phase: "exec" };
  switch (outcome.kind) {
    case "aborted":
      return new Failure(
        "timeout",
        "systemctl show did not answer before the check's deadline and was stopped",
        exec,
      );
    case "missing":
      return new Failure(
        "unavailable",
        "systemctl is not installed (not found on PATH), so systemd cannot be asked",
        exec,
      );
    case "denied":
      return new Failure(
        "permission",
        `the agent may not run systemctl (it needs --allow-run=systemctl): ${outcome.message}`,
        exec,
      );
    case "too_much":
      return new Failure(
        "protocol",
        `systemctl show printed more than ${MAX_OUTPUT_BYTES} bytes and was stopped`,
        exec,
      );
    case "exited": {
      const words = oneLine(outcome.stderr);
      const how = outcome.signal !== null
        ? `was killed by ${outcome.signal}`
        : `exited with status ${outcome.code}`;
      return new Failure(
        "unavailable",
        words
          ? `systemd cannot be asked: systemctl ${how}: ${words}`
          : `systemd cannot be asked: systemctl ${how} without saying why`,
        exec,
      );
    }
  }
}

/** systemctl's own words on one line, bounded. */
function oneLine(text: string): string {
  const joined = text.split("\n").map((l) => l.trim()).filter((l) => l !== "").join(" / ");
  return joined.length > 500 ? `${joined.slice(0, 500)}…` : joined;
}
