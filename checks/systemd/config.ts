/**
 * The systemd module's configuration: `SYSTEMD_SERVICES` as one instance of
 * every valid unit, and a config-error instance for each name that is not a
 * valid unit name (it never reaches systemctl).
 *
 * @module
 */

import type { EnvReader, InstanceSpec } from "../../src/check.ts";
import { echo, list } from "../../src/config_values.ts";
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

const VARIABLE = "SYSTEMD_SERVICES";

/** `SYSTEMD_SERVICES` → the instance of every valid unit, then one config error per bad name. */
export function parseSystemd(env: EnvReader): InstanceSpec<SystemdConfig>[] {
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
