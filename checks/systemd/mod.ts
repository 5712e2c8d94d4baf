/**
 * systemd unit check: is each unit in `SYSTEMD_SERVICES` running?
 *
 * One instance for all valid units: one `systemctl show` per run asks for all
 * of them, and the run returns one result (one event) per unit. A name that
 * is not a valid unit name becomes its own config-error instance and never
 * reaches systemctl.
 *
 * @module
 */

import type {
  CheckModule,
  CheckResult,
  InstanceSpec,
  Reason,
  RunContext,
} from "../../src/check.ts";
import { failure } from "../../src/check.ts";
import { echo, list } from "../../src/config_values.ts";
import { judgeUnit, type RestartMark } from "./judge.ts";
import { parseShow } from "./show_output.ts";
import { MAX_OUTPUT_BYTES, runSystemctl, type SystemctlRun } from "./systemctl.ts";
import { checkUnitName } from "./unit_name.ts";

/** One configured unit. */
export interface SystemdUnit {
  /** The name as written in `SYSTEMD_SERVICES`; the event's target. */
  target: string;
  /** The full unit name passed to systemctl (`ssh` → `ssh.service`). */
  unit: string;
}

/** The one instance's configuration: every valid unit, in the configured order. */
export interface SystemdConfig {
  units: SystemdUnit[];
}

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

const VARIABLE = "SYSTEMD_SERVICES";

function parse(env: (name: string) => string | undefined): InstanceSpec<SystemdConfig>[] {
  const names = list(env, VARIABLE);
  if (names.length === 0) {
    return [{
      name: VARIABLE,
      targets: [VARIABLE],
      ok: false,
      error: `${VARIABLE} is empty: list unit names, e.g. nginx.service,ssh`,
    }];
  }
  const units: SystemdUnit[] = [];
  const refused: InstanceSpec<SystemdConfig>[] = [];
  for (const name of names) {
    const checked = checkUnitName(name);
    if (checked.ok) {
      units.push({ target: name, unit: checked.unit });
    } else {
      refused.push({
        name,
        targets: [name],
        ok: false,
        error: `${VARIABLE}: ${echo(name)} is not a valid unit name: ${checked.reason}`,
      });
    }
  }
  const specs: InstanceSpec<SystemdConfig>[] = [];
  if (units.length > 0) {
    specs.push({
      name: VARIABLE,
      targets: units.map((u) => u.target),
      ok: true,
      config: { units },
    });
  }
  return [...specs, ...refused];
}

/** The arguments of the one systemctl call: options, then `--`, then the units. */
export function systemctlArgs(units: readonly string[]): string[] {
  return ["show", "--no-pager", `--property=${PROPERTIES.join(",")}`, "--", ...units];
}

/** One `systemctl show` for every unit, one result per unit. */
export async function run(
  config: SystemdConfig,
  { signal, memory }: RunContext,
): Promise<CheckResult[]> {
  const unique = [...new Set(config.units.map((u) => u.unit))];
  const outcome = await runSystemctl(systemctlArgs(unique), signal);
  if (outcome.kind !== "exited" || outcome.code !== 0) {
    const { reason, message } = describeFailure(outcome);
    return config.units.map((u) => failure(u.target, reason, message));
  }
  const parsed = parseShow(outcome.stdout);
  if (!parsed.ok) {
    const message =
      `systemctl show printed something other than its property list: ${parsed.reason}`;
    return config.units.map((u) => failure(u.target, "protocol", message));
  }
  if (parsed.blocks.length !== unique.length) {
    const message = `systemctl show printed ${parsed.blocks.length} property blocks for ` +
      `${unique.length} unit${unique.length === 1 ? "" : "s"}`;
    return config.units.map((u) => failure(u.target, "protocol", message));
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

/** Every unit gets the same answer when systemctl itself could not give one. */
function describeFailure(outcome: SystemctlRun): { reason: Reason; message: string } {
  switch (outcome.kind) {
    case "aborted":
      return {
        reason: "timeout",
        message: "systemctl show did not answer before the check's deadline and was stopped",
      };
    case "missing":
      return {
        reason: "unavailable",
        message: "systemctl is not installed (not found on PATH), so systemd cannot be asked",
      };
    case "denied":
      return {
        reason: "permission",
        message:
          `the agent may not run systemctl (it needs --allow-run=systemctl): ${outcome.message}`,
      };
    case "too_much":
      return {
        reason: "protocol",
        message: `systemctl show printed more than ${MAX_OUTPUT_BYTES} bytes and was stopped`,
      };
    case "exited": {
      const words = oneLine(outcome.stderr);
      const how = outcome.signal !== null
        ? `was killed by ${outcome.signal}`
        : `exited with status ${outcome.code}`;
      return {
        reason: "unavailable",
        message: words
          ? `systemd cannot be asked: systemctl ${how}: ${words}`
          : `systemd cannot be asked: systemctl ${how} without saying why`,
      };
    }
  }
}

/** systemctl's own words on one line, bounded. */
function oneLine(text: string): string {
  const joined = text.split("\n").map((l) => l.trim()).filter((l) => l !== "").join(" / ");
  return joined.length > 500 ? `${joined.slice(0, 500)}…` : joined;
}

/** The `systemd` module. */
export const systemd: CheckModule<SystemdConfig> = {
  name: "systemd",
  options: [{
    name: "services",
    kind: "list",
    doc: "comma list (or YAML list) of unit names; a name without a type suffix means `.service`",
  }],
  parse,
  needs: () => ({ run: ["systemctl"] }),
  load: () => Promise.resolve({ run }),
};
