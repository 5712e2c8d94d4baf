/**
 * `deno task check [--json] [NAME…]`: the selected checks once, a table (or
 * one JSON event per line), exit 1 if any is not ok.
 *
 * @module
 */

import { renderTable } from "./check_table.ts";
import { realClock } from "./clock.ts";
import type { AgentConfig } from "./config.ts";
import { loadRunners, scheduleInstances } from "./instances.ts";
import type { Logger } from "./log.ts";
import { type CheckEvent, EventFactory } from "./protocol.ts";
import type { Redactor } from "./redact.ts";
import { Scheduler } from "./scheduler.ts";
import { selectInstances } from "./validate.ts";

/** Runs the check command; returns its exit code. */
export async function runCheckCommand(
  config: AgentConfig,
  args: string[],
  log: Logger,
  redactor: Redactor,
): Promise<number> {
  const json = args.includes("--json");
  const names = args.filter((a) => !a.startsWith("-"));
  const { selected, unknown } = selectInstances(config.checks, names);
  if (unknown.length > 0) {
    log.error(`no instance or module named ${unknown.join(", ")}`);
    return 2;
  }
  const { checks, problems } = scheduleInstances(selected, await loadRunners(selected));
  problems.forEach((p) => log.warn(`${p.key}: ${p.message}`, { reason: p.reason }));
  if (checks.length === 0) {
    log.info("no checks are enabled (ENABLED_MODULES and the checks file are empty)");
    return 0;
  }
  const factory = new EventFactory({ agent: config.agentId });
  const events: CheckEvent[] = [];
  const scheduler = new Scheduler({
    checks,
    concurrency: config.checkConcurrency,
    clock: realClock,
    log,
    sink: (outcome) => {
      const event = redactor.event(factory.check(outcome));
      events.push(event);
      if (json) console.log(JSON.stringify(event));
    },
  });
  await scheduler.runOnce();
  if (!json) console.log(renderTable(events));
  return events.every((e) => e.status === "ok") ? 0 : 1;
}
