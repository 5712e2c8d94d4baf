/**
 * systemd unit check: is each unit in `SYSTEMD_SERVICES` running?
 *
 * One instance for all valid units: one `systemctl show` per run asks for all
 * of them, and the run returns one result (one event) per unit. A name that
 * is not a valid unit name becomes its own config-error instance and never
 * reaches systemctl.
 *
 * This file is what the launcher and `validate` load: the options, the
 * parsing (`config.ts`) and the needs; the runner (`run.ts`) is loaded only
 * when the module is enabled.
 *
 * @module
 */

import type { CheckModule } from "../../src/check.ts";
import { parseSystemd, type SystemdConfig } from "./config.ts";

export type { SystemdConfig, SystemdUnit } from "./config.ts";

/** The `systemd` module. */
export const systemd: CheckModule<SystemdConfig> = {
  name: "systemd",
  options: [{
    name: "services",
    kind: "list",
    required: true,
    doc: "comma list (or YAML list) of unit names; a name without a type suffix means `.service`",
  }],
  parse: parseSystemd,
  needs: () => ({ run: ["systemctl"] }),
  load: async () => await import("./run.ts"),
};
