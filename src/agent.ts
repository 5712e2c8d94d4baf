/**
 * The long-running agent: the checks' outcomes become events on the
 * pipeline (src/pipeline.ts); heartbeats and the status file show it is
 * alive; SIGHUP reloads the configuration (src/reload.ts); SIGINT or SIGTERM
 * stops it cleanly (the queue is flushed for `SHUTDOWN_FLUSH_SECONDS`).
 *
 * @module
 */

import { realClock } from "./clock.ts";
import type { AgentConfig } from "./config.ts";
import { startHeartbeat } from "./heartbeat.ts";
import { loadRunners, scheduleInstances } from "./instances.ts";
import { loadAgentConfig } from "./load.ts";
import type { Logger } from "./log.ts";
import { AgentMetrics } from "./metrics/agent_metrics.ts";
import { missingNeeds, monitoringHost } from "./permissions.ts";
import { type Pipeline, startPipeline } from "./pipeline.ts";
import { createRedactor, type SwappableRedactor } from "./redact.ts";
import { agentFlags, planReload } from "./reload.ts";
import { RESTART_EXIT_CODE } from "./restart.ts";
import type { ScheduledCheck } from "./scheduled_check.ts";
import { Scheduler } from "./scheduler.ts";
import { createStateLog } from "./state_log.ts";
import { type AgentStatus, startStatusWriter } from "./status_file.ts";
import type { StopSignals } from "./stop_signals.ts";
import { VERSION } from "./version.ts";

/** The scheduled checks of a configuration; the problems found are logged once. */
async function checksOf(config: AgentConfig, log: Logger): Promise<ScheduledCheck[]> {
  const { checks, problems } = scheduleInstances(config.checks, await loadRunners(config.checks));
  problems.forEach((p) => log.error(`${p.key}: ${p.message}`, { reason: p.reason }));
  return checks;
}

/** Runs until a stop signal (or a restart for a reload); returns the exit code. */
export async function runAgent(
  start: { config: AgentConfig; envFiles: string[] },
  log: Logger,
  redactor: SwappableRedactor,
  signals: StopSignals,
): Promise<number> {
  let { config } = start;
  let flags = agentFlags(config, start.envFiles);
  const monitoring = monitoringHost(config.monitoringUrl);
  if (missingNeeds({ net: [monitoring] }).length > 0) {
    log.error(
      `the agent lacks --allow-net=${monitoring} for MONITORING_URL; start it with deno task start`,
    );
    return 2;
  }
  const startedAt = performance.now();
  const uptime = () => Math.round((performance.now() - startedAt) / 1000);
  const pipeline: Pipeline = await startPipeline(config, log, () => redactor);
  const { factory } = pipeline;
  const stateLog = createStateLog(log, (o) => `${o.instance ?? o.module} ${o.target}`);
  const checks = await checksOf(config, log);
  const scheduler = new Scheduler({
    checks,
    concurrency: config.checkConcurrency,
    clock: realClock,
    log,
    sink: (outcome) => {
      // Queued (and spooled) first: a result in the log is never one the queue lacks.
      pipeline.emit(factory.check(outcome));
      stateLog(outcome);
      metrics.record(outcome);
    },
  });

  const snapshot = (): AgentStatus => ({
    ts: new Date().toISOString(),
    agent: config.agentId,
    version: VERSION,
    uptime_s: uptime(),
    connected: pipeline.transport.connected,
    queue: { size: pipeline.queue.size, dropped: pipeline.queue.dropped, max: pipeline.queue.max },
    skipped_runs: scheduler.skipped,
    ...metrics.statusFields(),
  });
  const { queue, transport } = pipeline;
  const sources = { queue, transport, scheduler, status: snapshot };
  const metrics = new AgentMetrics(config, { log, run: factory.run, redactor, ...sources });
  const metricsProblem = await metrics.start();
  if (metricsProblem) {
    log.error(metricsProblem);
    await pipeline.close(0);
    return 2;
  }
  log.info("kozak agent starting", {
    version: VERSION,
    agent: config.agentId,
    run: factory.run,
    monitoring: config.monitoringUrl.href,
    instances: new Set(config.checks.map((c) => c.instance)).size,
    checks: checks.length,
    spool: config.spoolDir ?? "off",
  });
  const stopHeartbeat = startHeartbeat(
    config.heartbeatIntervalMs,
    () =>
      pipeline.emit(factory.heartbeat({
        uptime_s: uptime(),
        version: VERSION,
        skipped_runs: scheduler.skipped,
        interval_s: config.heartbeatIntervalMs / 1000,
        ...pipeline.stats(),
      })),
  );
  scheduler.start();
  const stopStatus = startStatusWriter(config.statusFile, snapshot, log.warn);

  /** SIGHUP: apply in place, ask for a restart, or keep what runs. */
  const reload = async (): Promise<"restart" | undefined> => {
    const plan = planReload({ config, flags }, await loadAgentConfig());
    if (plan.kind === "invalid") {
      plan.problems.forEach((p) =>
        log.error(`reload: config error: ${p.variable ? `${p.variable}: ` : ""}${p.message}`)
      );
      log.error("reload: the new configuration is not valid; the running one stays");
      return undefined;
    }
    if (plan.kind === "restart") {
      if (config.supervised) {
        log.info(`reload: ${shorten(plan.why)}; restarting with the new flags`);
        return "restart";
      }
      log.error(
        `reload: ${
          shorten(plan.why)
        }: restart the agent to apply it (deno task start computes the flags); the running configuration stays`,
      );
      return undefined;
    }
    redactor.set(createRedactor([...config.secrets, ...plan.config.secrets]));
    const next = await checksOf(plan.config, log);
    const done = scheduler.replace(next);
    metrics.registry.retain(plan.config.checks.map((c) => ({ ...c, module: c.module.name })));
    config = plan.config;
    flags = plan.flags;
    log.info("reload: applied", {
      added: done.added.length,
      removed: done.removed.length,
      changed: done.changed.length,
      kept: done.kept.length,
      ...(done.added.length ? { added_keys: done.added.join(",") } : {}),
      ...(done.removed.length ? { removed_keys: done.removed.join(",") } : {}),
      ...(done.changed.length ? { changed_keys: done.changed.join(",") } : {}),
    });
    return undefined;
  };

  let ending: { kind: "stop"; signal: Deno.Signal } | { kind: "restart" };
  for (;;) {
    const wake = await signals.next();
    if (wake === "SIGHUP") {
      if (await reload() === "restart") {
        ending = { kind: "restart" };
        break;
      }
      continue;
    }
    ending = { kind: "stop", signal: wake };
    break;
  }

  scheduler.stop();
  stopHeartbeat();
  stopStatus();
  if (ending.kind === "restart") {
    // Nothing is flushed: the queue goes to the next process (spool or hand-over).
    await metrics.stop(0); // the next process listens on the same port
    await pipeline.close(0);
    pipeline.handOver();
    log.info("restarting for the reload", { queued: pipeline.queue.size, run: factory.run });
    return RESTART_EXIT_CODE;
  }
  log.info("stopping", {
    signal: ending.signal,
    queued: pipeline.queue.size,
    flush_ms: config.shutdownFlushMs,
  });
  const metricsStopped = metrics.stop(config.shutdownFlushMs);
  const { flushed } = await pipeline.close(config.shutdownFlushMs);
  await metricsStopped;
  if (!flushed) log.warn(`${pipeline.queue.size} event(s) not delivered before exit`);
  const { acked, written } = pipeline.transport.delivery;
  log.info("stopped", {
    // Written to a server that does not acknowledge is not known to be delivered.
    delivered_all: flushed && written === 0,
    confirmed: acked,
    written_unconfirmed: written,
    created: factory.lastSeq,
    dropped_total: pipeline.queue.dropped,
    ...(config.spoolDir && !flushed ? { spooled: pipeline.queue.size } : {}),
  });
  return 0;
}

function shorten(text: string): string {
  return text.length > 400 ? `${text.slice(0, 400)}…` : text;
}
