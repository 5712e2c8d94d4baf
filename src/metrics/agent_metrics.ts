/**
 * The metrics part as the agent sees it — one object with a small contract:
 * made from the configuration and read-only views of the queue, the
 * transport and the scheduler; fed every {@link CheckOutcome} from the sink;
 * {@link AgentMetrics.start}ed before the scheduler (so that a port that is
 * taken stops start-up) and {@link AgentMetrics.stop}ped at shutdown. It
 * always keeps each instance's last run (for the status file); the
 * `METRICS_LISTEN` server and the remote writer exist only when configured.
 *
 * @module
 */

import { realClock } from "../clock.ts";
import type { Clock } from "../clock.ts";
import type { Logger } from "../log.ts";
import { missingNeeds } from "../permissions.ts";
import type { CheckOutcome } from "../protocol.ts";
import type { AgentStatus, RemoteWriteStatus } from "../status_file.ts";
import { VERSION } from "../version.ts";
import type { MetricsSettings } from "./config.ts";
import { type FamilyDef, labelPairs, renderFamily, sampleLine } from "./exposition.ts";
import { AGENT_FAMILIES, REMOTE_WRITE_FAMILIES } from "./families.ts";
import { type Label, MetricsRegistry } from "./registry.ts";
import type { RemoteWriter } from "./remote_write.ts";
import type { RemoteSample, SampleQueue } from "./sample_queue.ts";
import type { Health, MetricsServer } from "./server.ts";

/** Read-only views of the agent's parts (the agent's own objects fit them as they are). */
export interface MetricsSources {
  queue: { readonly size: number; readonly max: number; readonly dropped: number };
  transport: {
    readonly connected: boolean;
    readonly delivery?: { acked: number; written: number };
  };
  scheduler: { readonly running: boolean; readonly skipped: number };
}

/** What {@link AgentMetrics} is made from. */
export interface AgentMetricsOptions extends MetricsSources {
  log: Logger;
  /** This process start's id (the events' `run`). */
  run: string;
  /** Hides secrets in label values and messages; default none. */
  redactor?: { text(value: string): string };
  /** The status snapshot `/status` serves (the status file's). */
  status?: () => AgentStatus;
  clock?: Clock;
  /** Wall clock, Unix ms; default `Date.now`. */
  now?: () => number;
  fetch?: typeof fetch;
}

/** The configuration it reads (structurally part of `AgentConfig`). */
export interface AgentMetricsConfig {
  agentId: string;
  metrics: MetricsSettings;
  queueOverflow: "drop-oldest" | "drop-newest";
}

/** The agent's metrics: registry, exposition, `/healthz`, remote write. */
export class AgentMetrics {
  readonly registry: MetricsRegistry;
  readonly #config: AgentMetricsConfig;
  readonly #o: AgentMetricsOptions;
  readonly #now: () => number;
  readonly #startedMs: number;
  readonly #agentPairs: string;
  readonly #remoteLabels = new Map<FamilyDef, readonly Label[]>();
  #server: MetricsServer | undefined;
  #writer: RemoteWriter | undefined;
  #samples: SampleQueue | undefined;

  constructor(config: AgentMetricsConfig, options: AgentMetricsOptions) {
    this.#config = config;
    this.#o = options;
    this.#now = options.now ?? Date.now;
    this.#startedMs = this.#now();
    this.registry = new MetricsRegistry({
      agent: config.agentId,
      redact: options.redactor ? (t) => options.redactor!.text(t) : undefined,
    });
    this.#agentPairs = labelPairs([["agent", config.agentId]]);
  }

  /** The port `/metrics` is served on, once started (undefined when off). */
  get port(): number | undefined {
    return this.#server?.port;
  }

  /** Takes one outcome of the scheduler's sink. */
  record(outcome: CheckOutcome): void {
    const series = this.registry.record(outcome, this.#now());
    if (!this.#samples) return;
    const samples = series.points().map((point) => ({
      labels: series.remoteLabels(point),
      value: point.value,
      timestampMs: series.endMs,
    }));
    this.#samples.push(samples);
  }

  /**
   * Opens the listener and starts the remote writer; returns why it cannot
   * (a missing permission, a port that is taken: the agent exits with 2).
   */
  async start(): Promise<string | undefined> {
    const { listen, remoteWrite } = this.#config.metrics;
    const needs = [
      ...(listen ? [[listen.entry, "METRICS_LISTEN"]] : []),
      ...(remoteWrite ? [[remoteWrite.entry, "REMOTE_WRITE_URL"]] : []),
    ];
    for (const [entry, variable] of needs) {
      if (missingNeeds({ net: [entry] }).length > 0) {
        return `the agent lacks --allow-net=${entry} for ${variable}; start it with deno task start`;
      }
    }
    if (remoteWrite) {
      // Loaded only here: the protobuf and snappy libraries cost memory an agent without remote write need not pay.
      const { encodeBody } = await import("./remote_write_encode.ts");
      const { RemoteWriter } = await import("./remote_write.ts");
      const { SampleQueue } = await import("./sample_queue.ts");
      this.#samples = new SampleQueue(remoteWrite.maxSamples, this.#config.queueOverflow);
      this.#writer = new RemoteWriter({
        url: remoteWrite.url,
        token: remoteWrite.token,
        intervalMs: remoteWrite.intervalMs,
        queue: this.#samples,
        encode: encodeBody,
        collect: (nowMs) => this.#agentSamples(nowMs),
        clock: this.#o.clock ?? realClock,
        now: this.#now,
        fetch: this.#o.fetch,
        log: this.#o.log,
      });
    }
    if (listen) {
      const { startMetricsServer } = await import("./server.ts");
      const started = startMetricsServer(listen, {
        metrics: () => this.renderMetrics(),
        health: () => this.health(),
        status: () => this.#o.status?.() ?? { instances: this.registry.states() },
      }, (error) => this.#o.log.error("metrics request failed", { error }));
      if (!started.ok) return started.message;
      this.#server = started.server;
      this.#o.log.info("serving metrics", { listen: listen.entry, port: this.#server.port });
    }
    this.#writer?.start();
    return undefined;
  }

  /** Pushes what remote write holds for at most `flushMs`, and closes the listener. */
  async stop(flushMs: number): Promise<void> {
    await this.#writer?.stop(flushMs);
    await this.#server?.close();
    this.#server = undefined;
  }

  /** The whole exposition: the agent's own families, then every check family. */
  renderMetrics(): string {
    const out: string[] = [];
    for (const [family, value] of this.#agentValues()) {
      const pairs = family === AGENT_FAMILIES.info ? this.#infoPairs() : this.#agentPairs;
      renderFamily(out, family, [sampleLine(family.name, pairs, value)]);
    }
    this.registry.render(out);
    out.push("");
    return out.join("\n");
  }

  /** 200 while the scheduler runs and the event queue is below its bound; 503 with the reason otherwise. */
  health(): Health {
    const { queue, scheduler, transport } = this.#o;
    const facts = {
      scheduler: scheduler.running ? "running" : "stopped",
      queue: { size: queue.size, max: queue.max, dropped: queue.dropped },
      connected: transport.connected,
      uptime_s: Math.round((this.#now() - this.#startedMs) / 1000),
      version: VERSION,
    };
    const reason = !scheduler.running
      ? "the scheduler is not running (the agent is starting or stopping)"
      : queue.size >= queue.max
      ? `the event queue is full (${queue.size} of ${queue.max} events): new events are being dropped`
      : undefined;
    return reason
      ? { healthy: false, body: { status: "unhealthy", reason, ...facts } }
      : { healthy: true, body: { status: "ok", ...facts } };
  }

  /** The status-file fields this part adds: instances, the listener, remote write. */
  statusFields(): Pick<AgentStatus, "instances" | "metrics_listen" | "remote_write" | "pid"> {
    const { listen, remoteWrite } = this.#config.metrics;
    const fields: Pick<AgentStatus, "instances" | "metrics_listen" | "remote_write" | "pid"> = {
      pid: Deno.pid,
      instances: this.registry.states(),
    };
    if (listen) fields.metrics_listen = listen.entry;
    if (remoteWrite && this.#writer && this.#samples) {
      const stats = this.#writer.stats;
      const rw: RemoteWriteStatus = {
        url: remoteWrite.url.href,
        queued: this.#samples.size,
        dropped: this.#samples.dropped,
        sent: stats.sent,
      };
      if (stats.lastSuccessMs) rw.last_success = new Date(stats.lastSuccessMs).toISOString();
      if (stats.lastError) rw.last_error = stats.lastError;
      fields.remote_write = rw;
    }
    return fields;
  }

  #infoPairs(): string {
    return labelPairs([["agent", this.#config.agentId], ["run", this.#o.run], [
      "version",
      VERSION,
    ]]);
  }

  /** The agent's own families and their values now. */
  #agentValues(): [FamilyDef, number][] {
    const { queue, scheduler, transport } = this.#o;
    const values: [FamilyDef, number][] = [
      [AGENT_FAMILIES.info, 1],
      [AGENT_FAMILIES.startTime, this.#startedMs / 1000],
      [AGENT_FAMILIES.schedulerRunning, scheduler.running ? 1 : 0],
      [AGENT_FAMILIES.skippedRuns, scheduler.skipped],
      [AGENT_FAMILIES.queueEvents, queue.size],
      [AGENT_FAMILIES.queueMax, queue.max],
      [AGENT_FAMILIES.queueDropped, queue.dropped],
      [AGENT_FAMILIES.connected, transport.connected ? 1 : 0],
    ];
    if (transport.delivery) {
      values.push([AGENT_FAMILIES.acked, transport.delivery.acked]);
      values.push([AGENT_FAMILIES.unconfirmed, transport.delivery.written]);
    }
    if (this.#writer && this.#samples) {
      const stats = this.#writer.stats;
      values.push(
        [REMOTE_WRITE_FAMILIES.queued, this.#samples.size],
        [REMOTE_WRITE_FAMILIES.sent, stats.sent],
        [REMOTE_WRITE_FAMILIES.dropped, this.#samples.dropped],
        [REMOTE_WRITE_FAMILIES.failed, stats.failed],
        [REMOTE_WRITE_FAMILIES.lastSuccess, stats.lastSuccessMs / 1000],
      );
    }
    return values;
  }

  /** The agent's own series as remote-write samples stamped `nowMs`. */
  #agentSamples(nowMs: number): RemoteSample[] {
    return this.#agentValues().map(([family, value]) => {
      let labels = this.#remoteLabels.get(family);
      if (!labels) {
        const pairs: Label[] = [["__name__", family.name], ["agent", this.#config.agentId]];
        if (family === AGENT_FAMILIES.info) pairs.push(["run", this.#o.run], ["version", VERSION]);
        labels = pairs.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
        this.#remoteLabels.set(family, labels);
      }
      return { labels, value, timestampMs: nowMs };
    });
  }
}
