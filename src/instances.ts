/**
 * Turns configured units into what the scheduler runs. A unit with a config
 * error, a missing permission or a module that failed to load still runs:
 * every interval it reports that problem, so the monitoring side sees it.
 *
 * @module
 */

import { type CheckResult, failure, type Reason, type RunContext, type Runner } from "./check.ts";
import type { CheckInstance } from "./config_modules.ts";
import { missingNeeds, type PermissionQuery } from "./permissions.ts";
import type { ScheduledCheck } from "./scheduled_check.ts";

/** A problem found before the first run, to be logged once. */
export interface InstanceProblem {
  key: string;
  reason: "config" | "permission" | "internal";
  message: string;
}

/** A module's runner, or why it could not be loaded. */
export type LoadedRunner = { ok: true; runner: Runner<unknown> } | { ok: false; message: string };

/**
 * Loads the runner of every module that has a runnable unit, each once: the
 * drivers of modules that are not enabled are never imported.
 */
export async function loadRunners(
  instances: CheckInstance[],
): Promise<Map<string, LoadedRunner>> {
  const modules = new Map(instances.filter((i) => i.ok).map((i) => [i.module.name, i.module]));
  const loaded = new Map<string, LoadedRunner>();
  await Promise.all([...modules].map(async ([name, module]) => {
    try {
      loaded.set(name, { ok: true, runner: await module.load() });
    } catch (error) {
      loaded.set(name, {
        ok: false,
        message: `the ${name} module could not be loaded: ${(error as Error).message}`,
      });
    }
  }));
  return loaded;
}

/** The scheduled checks and the problems to log once at start. */
export function scheduleInstances(
  instances: CheckInstance[],
  runners: ReadonlyMap<string, LoadedRunner>,
  query?: PermissionQuery,
): { checks: ScheduledCheck[]; problems: InstanceProblem[] } {
  const problems: InstanceProblem[] = [];
  const checks = instances.map((instance): ScheduledCheck => {
    const fixed = (reason: InstanceProblem["reason"], message: string): ScheduledCheck => {
      problems.push({ key: instance.key, reason, message });
      const answer: Runner<unknown> = {
        run: () =>
          Promise.resolve(instance.targets.map((t) => failure(t, reason as Reason, message))),
      };
      return new ScheduledUnit(instance, answer, undefined);
    };
    if (!instance.ok) return fixed("config", instance.error);
    const missing = missingNeeds(instance.needs, query);
    if (missing.length > 0) {
      return fixed(
        "permission",
        `the agent lacks Deno permissions (${
          missing.join(", ")
        }); start it with deno task start, which grants exactly what enabled modules need`,
      );
    }
    const runner = runners.get(instance.module.name);
    if (!runner) return fixed("internal", `the ${instance.module.name} module was not loaded`);
    if (!runner.ok) return fixed("internal", runner.message);
    return new ScheduledUnit(instance, runner.runner, instance.config);
  });
  return { checks, problems };
}

/**
 * The scheduled form of a unit: its module's runner on its config, or a
 * runner with a fixed answer. A class, so that one object per unit is all it costs, and its
 * fingerprint is computed when asked for (a reload compares them), not held:
 * at 10,000 targets the strings alone came to 2.3 MB.
 */
class ScheduledUnit implements ScheduledCheck {
  readonly key: string;
  readonly module: string;
  readonly instance: string;
  readonly labels: Record<string, string>;
  readonly targets: string[];
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly #unit: CheckInstance;
  readonly #runner: Runner<unknown>;
  readonly #config: unknown;

  constructor(unit: CheckInstance, runner: Runner<unknown>, config: unknown) {
    this.key = unit.key;
    this.module = unit.module.name;
    this.instance = unit.instance;
    this.labels = unit.labels;
    this.targets = unit.targets;
    this.intervalMs = unit.intervalMs;
    this.timeoutMs = unit.timeoutMs;
    this.#unit = unit;
    this.#runner = runner;
    this.#config = config;
  }

  get fingerprint(): string {
    return fingerprintOf(this.#unit);
  }

  run(ctx: RunContext): Promise<CheckResult | CheckResult[]> {
    return this.#runner.run(this.#config, ctx);
  }
}

/** What a unit is beyond its key: a reload keeps a unit whose fingerprint stays. */
export function fingerprintOf(unit: CheckInstance): string {
  return JSON.stringify([
    unit.module.name,
    unit.targets,
    unit.intervalMs,
    unit.timeoutMs,
    unit.labels,
    unit.ok ? unit.config : unit.error,
  ]);
}
