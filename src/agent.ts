/**
 * The long-running agent: the checks' outcomes become events, events go
 * through one redaction step into the bounded queue, and the transport
 * delivers them; heartbeats and the status file show it is alive; SIGINT or
 * SIGTERM stops it cleanly (the queue is flushed for `SHUTDOWN_FLUSH_SECONDS`).
 *
 * @module
 */

import { realClock } from "./clock.ts";
import type { AgentConfig } from "./config.ts";
import { createDropLog } from "./drop_log.ts";
import { startHeartbeat } from "./heartbeat.ts";
import { loadRunners, scheduleInstances } from "./instances.ts";
import type { Logger } from "./log.ts";
import { AgentMetrics } from "./metrics/agent_metrics.ts";
import { missingNeeds, monitoringHost } from "./permissions.ts";
import { type AgentEvent, EventFactory } from "./protocol.ts";
import { EventQueue } from "./queue.ts";
import type { Redactor } from "./redact.ts";
import { Scheduler } from "./scheduler.ts";
import { createStateLog } from "./state_log.ts";
import { type AgentStatus, startStatusWriter } from "./status_file.ts";
import { waitForStop } from "./stop_signals.ts";
import { Transport } from "./transport.ts";
import { VERSION } from "./version.ts";

/** Runs until a stop signal; returns the exit code. */
export async function runAgent(
  config: AgentConfig,
  log: Logger,
  redactor: Redactor,
): Promise<number> {
  const monitoring = monitoringHost(config.monitoringUrl);
  if (missingNeeds({ net: [monitoring] }).length > 0) {
    log.error(
      `the agent lacks --allow-net=${monitoring} for MONITORING_URL; start it with deno task start`,
    );
    return 2;
  }
  const startedAt = performance.now();
  const uptime = () => Math.round((performance.now() - startedAt) / 1000);
  const factory = new EventFactory({ agent: config.agentId });
  const queue = new EventQueue(config.queueMaxEvents, config.queueOverflow);
  const transport = new Transport({
    url: config.monitoringUrl,
    token: config.monitoringToken,
    queue,
    clock: realClock,
    log,
    connectTimeoutMs: config.monitoringConnectTimeoutMs,
  });
  const drops = createDropLog({
    log,
    message: (n) => `queue full (${config.queueMaxEvents} events): dropped ${n} event(s)`,
    fields: () => ({ policy: config.queueOverflow, dropped_total: queue.dropped }),
  });
  const dropTimer = setInterval(drops.flush, 5_000);
  const emit = (event: AgentEvent) => {
    drops.record(queue.push({ seq: event.seq, data: redactor.json(event) }));
    transport.notify();
  };

  const { checks, problems } = scheduleInstances(config.checks, await loadRunners(config.checks));
  problems.forEach((p) => log.error(`${p.key}: ${p.message}`, { reason: p.reason }));
  const stateLog = createStateLog(log, (o) => `${o.instance ?? o.module} ${o.target}`);
  const scheduler = new Scheduler({
    checks,
    concurrency: config.checkConcurrency,
    clock: realClock,
    log,
    sink: (outcome) => {
      stateLog(outcome);
      metrics.record(outcome);
      emit(factory.check(outcome));
    },
  });

  const snapshot = (): AgentStatus => ({
    ts: new Date().toISOString(),
    agent: config.agentId,
    version: VERSION,
    uptime_s: uptime(),
    connected: transport.connected,
    queue: { size: queue.size, dropped: queue.dropped, max: queue.max },
    skipped_runs: scheduler.skipped,
    ...metrics.statusFields(),
  });
  const metrics = new AgentMetrics(config, {
    log,
    run: factory.run,
    redactor,
    queue,
    transport,
    scheduler,
    status: snapshot,
  });
  const metricsProblem = await metrics.start();
  if (metricsProblem) {
    log.error(metricsProblem);
    return 2;
  }
  log.info("kozak agent starting", {
    version: VERSION,
    agent: config.agentId,
    run: factory.run,
    monitoring: config.monitoringUrl.href,
    instances: new Set(config.checks.map((c) => c.instance)).size,
    checks: checks.length,
  });
  transport.start();
  const stopHeartbeat = startHeartbeat(config.heartbeatIntervalMs, () =>
    emit(factory.heartbeat({
      uptime_s: uptime(),
      queue: { size: queue.size, dropped: queue.dropped },
      version: VERSION,
      skipped_runs: scheduler.skipped,
      interval_s: config.heartbeatIntervalMs / 1000,
    })));
  scheduler.start();
  const stopStatus = startStatusWriter(config.statusFile, snapshot, log.warn);

  // Reload (SIGHUP) is not built yet; until it is, a hangup must not end the agent.
  const signal = await waitForStop(() => log.warn("reload is not supported yet; ignoring SIGHUP"));

  log.info("stopping", { signal, queued: queue.size, flush_ms: config.shutdownFlushMs });
  scheduler.stop();
  stopHeartbeat();
  stopStatus();
  const metricsStopped = metrics.stop(config.shutdownFlushMs);
  const flushed = await transport.flush(config.shutdownFlushMs);
  drops.flush();
  clearInterval(dropTimer);
  if (!flushed) log.warn(`${queue.size} event(s) not delivered before exit`);
  await transport.close();
  await metricsStopped;
  const { acked, written } = transport.delivery;
  log.info("stopped", {
    // Written to a server that does not acknowledge is not known to be delivered.
    delivered_all: flushed && written === 0,
    confirmed: acked,
    written_unconfirmed: written,
    created: factory.lastSeq,
    dropped_total: queue.dropped,
  });
  return 0;
}
