/**
 * Kozak Agent entry point. Wiring only: config → checks → scheduler → queue →
 * transport; signals; exit codes (0 ok, 1 a check failed in `check` mode,
 * 2 bad configuration).
 *
 *   deno run <flags from `deno task permissions`> main.ts [start | check [--json]]
 *
 * @module
 */

import { realClock } from "./src/clock.ts";
import { formatProblems } from "./src/config.ts";
import { renderTable } from "./src/check_table.ts";
import { loadRunners, scheduleInstances } from "./src/instances.ts";
import { loadAgentConfig } from "./src/load.ts";
import { createDropLog } from "./src/drop_log.ts";
import { createLogger, type Logger, writeStderr } from "./src/log.ts";
import { missingNeeds, monitoringHost } from "./src/permissions.ts";
import { type AgentEvent, type CheckEvent, EventFactory } from "./src/protocol.ts";
import { EventQueue } from "./src/queue.ts";
import { createRedactor, MIN_SECRET_LENGTH, type Redactor } from "./src/redact.ts";
import { Scheduler } from "./src/scheduler.ts";
import { createStateLog } from "./src/state_log.ts";
import type { AgentStatus } from "./src/status_file.ts";
import { Transport } from "./src/transport.ts";
import { VERSION } from "./src/version.ts";
import type { AgentConfig } from "./src/config.ts";

async function main(args: string[]): Promise<number> {
  const command = args[0] ?? "start";
  if (command !== "start" && command !== "check") {
    writeStderr(`usage: main.ts [start | check [--json]] (got ${JSON.stringify(command)})`);
    return 2;
  }
  const loaded = loadAgentConfig();
  if (!loaded.ok) {
    writeStderr(formatProblems(loaded.problems));
    return 2;
  }
  const config = loaded.config;
  const redactor = createRedactor(config.secrets);
  const log = createLogger({ level: config.logLevel, format: config.logFormat, redactor });
  for (const w of config.warnings) log.warn(`${w.variable}: ${w.message}`);
  for (const name of new Set(redactor.short)) {
    log.warn(
      `${name} is shorter than ${MIN_SECRET_LENGTH} characters: it cannot be told apart from ordinary words, so logs and events hide it only where it stands alone as a word; use a longer secret`,
    );
  }
  globalThis.addEventListener("unhandledrejection", (e) => {
    // A bug must not take the agent down; it is logged and the agent goes on.
    e.preventDefault();
    log.error("unhandled rejection", { error: e.reason });
  });
  return command === "check"
    ? await runCheckCommand(config, args.includes("--json"), log, redactor)
    : await runAgent(config, log, redactor);
}

/** `deno task check`: every enabled check once, a table (or JSON lines), exit 1 if any is not ok. */
async function runCheckCommand(
  config: AgentConfig,
  json: boolean,
  log: Logger,
  redactor: Redactor,
): Promise<number> {
  const { checks, problems } = scheduleInstances(
    config.checks,
    await loadRunners(config.checks),
  );
  problems.forEach((p) => log.warn(`${p.key}: ${p.message}`, { reason: p.reason }));
  if (checks.length === 0) {
    log.info("no checks are enabled (ENABLED_MODULES is empty)");
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

/** The long-running agent: schedule, queue, deliver, heartbeat; stop cleanly on SIGINT/SIGTERM. */
async function runAgent(config: AgentConfig, log: Logger, redactor: Redactor): Promise<number> {
  const monitoring = monitoringHost(config.monitoringUrl);
  if (missingNeeds({ net: [monitoring] }).length > 0) {
    log.error(
      `the agent lacks --allow-net=${monitoring} for MONITORING_URL; start it with deno task start`,
    );
    return 2;
  }
  const startedAt = performance.now();
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

  const { checks, problems } = scheduleInstances(
    config.checks,
    await loadRunners(config.checks),
  );
  problems.forEach((p) => log.error(`${p.key}: ${p.message}`, { reason: p.reason }));
  const stateLog = createStateLog(log);
  const scheduler = new Scheduler({
    checks,
    concurrency: config.checkConcurrency,
    clock: realClock,
    log,
    sink: (outcome) => {
      stateLog(outcome);
      emit(factory.check(outcome));
    },
  });
  const heartbeat = () =>
    emit(factory.heartbeat({
      uptime_s: Math.round((performance.now() - startedAt) / 1000),
      queue: { size: queue.size, dropped: queue.dropped },
      version: VERSION,
      skipped_runs: scheduler.skipped,
      interval_s: config.heartbeatIntervalMs / 1000,
    }));
  const heartbeatTimer = config.heartbeatIntervalMs > 0
    ? setInterval(heartbeat, config.heartbeatIntervalMs)
    : undefined;

  const writeStatus = () => {
    if (!config.statusFile) return;
    const status: AgentStatus = {
      ts: new Date().toISOString(),
      agent: config.agentId,
      version: VERSION,
      uptime_s: Math.round((performance.now() - startedAt) / 1000),
      connected: transport.connected,
      queue: { size: queue.size, dropped: queue.dropped },
      skipped_runs: scheduler.skipped,
    };
    try {
      Deno.writeTextFileSync(config.statusFile, JSON.stringify(status) + "\n");
    } catch (error) {
      log.warn("cannot write the status file", { path: config.statusFile, error });
    }
  };
  const statusTimer = config.statusFile ? setInterval(writeStatus, 5_000) : undefined;

  log.info("kozak agent starting", {
    version: VERSION,
    agent: config.agentId,
    monitoring: config.monitoringUrl.href,
    modules: config.enabledModules.join(",") || "none",
    checks: checks.length,
  });
  transport.start();
  if (config.heartbeatIntervalMs > 0) heartbeat();
  scheduler.start();
  writeStatus();

  const stopped = Promise.withResolvers<string>();
  const onSignal = (name: Deno.Signal) => () => stopped.resolve(name);
  const signals: Array<[Deno.Signal, () => void]> = [["SIGINT", onSignal("SIGINT")], [
    "SIGTERM",
    onSignal("SIGTERM"),
  ]];
  // Reload (SIGHUP) is not built yet; until it is, a hangup must not end the agent.
  signals.push(["SIGHUP", () => log.warn("reload is not supported yet; ignoring SIGHUP")]);
  signals.forEach(([s, f]) => Deno.addSignalListener(s, f));
  const signal = await stopped.promise;

  log.info("stopping", { signal, queued: queue.size, flush_ms: config.shutdownFlushMs });
  scheduler.stop();
  clearInterval(heartbeatTimer);
  clearInterval(statusTimer);
  const flushed = await transport.flush(config.shutdownFlushMs);
  drops.flush();
  clearInterval(dropTimer);
  if (!flushed) log.warn(`${queue.size} event(s) not delivered before exit`);
  await transport.close();
  // The listeners stay until exit: without one, a repeated signal (the same one sent to the process
  // group and forwarded by the launcher) would end the process with 128 + N in its last moments.
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

if (import.meta.main) {
  const code = await main(Deno.args);
  // Checks that ignored their abort signal may still hold handles; they must not keep the process alive.
  Deno.exit(code);
}
