/**
 * Turns configured instances into what the scheduler runs. An instance with a
 * config error or a missing permission still runs: every interval it reports
 * that problem, so the monitoring side sees it.
 *
 * @module
 */

import { failure } from "./check.ts";
import type { CheckInstance } from "./config.ts";
import { missingNeeds, type PermissionQuery } from "./permissions.ts";
import type { ScheduledCheck } from "./scheduler.ts";

/** A problem found before the first run, to be logged once. */
export interface InstanceProblem {
  key: string;
  reason: "config" | "permission";
  message: string;
}

/** The scheduled checks and the problems to log once at start. */
export function scheduleInstances(
  instances: CheckInstance[],
  query?: PermissionQuery,
): { checks: ScheduledCheck[]; problems: InstanceProblem[] } {
  const problems: InstanceProblem[] = [];
  const checks = instances.map((instance): ScheduledCheck => {
    const base = {
      key: instance.key,
      module: instance.module.name,
      targets: instance.targets,
      intervalMs: instance.intervalMs,
      timeoutMs: instance.timeoutMs,
    };
    const fixed = (reason: "config" | "permission", message: string): ScheduledCheck => {
      problems.push({ key: instance.key, reason, message });
      return {
        ...base,
        run: () => Promise.resolve(instance.targets.map((t) => failure(t, reason, message))),
      };
    };
    if (instance.configError !== undefined || instance.config === undefined) {
      return fixed("config", instance.configError ?? "no configuration");
    }
    const missing = missingNeeds(instance.needs, query);
    if (missing.length > 0) {
      return fixed(
        "permission",
        `the agent lacks Deno permissions (${
          missing.join(", ")
        }); start it with deno task start, which grants exactly what enabled modules need`,
      );
    }
    const { module, config } = instance;
    return { ...base, run: (ctx) => module.run(config, ctx) };
  });
  return { checks, problems };
}
