/**
 * The event path of the running agent: events are built, redacted once,
 * queued (and spooled) and delivered by the transport. What an earlier
 * process left — in the spool, or handed over on stdin — goes first. The
 * pipeline outlives reloads: a new configuration of the checks keeps the
 * queue, the run and the connection.
 *
 * @module
 */

import { realClock } from "./clock.ts";
import type { AgentConfig } from "./config.ts";
import { createDropLog } from "./drop_log.ts";
import type { Logger } from "./log.ts";
import type { AgentEvent, HeartbeatDelivery, HeartbeatQueue } from "./protocol.ts";
import { EventFactory } from "./protocol.ts";
import { EventQueue } from "./queue.ts";
import type { Redactor } from "./redact.ts";
import { readHandover, writeHandover } from "./restart.ts";
import type { Spool } from "./spool/spool.ts";
import { Transport } from "./transport.ts";
import { monitoringSocketFactory } from "./transport_tls.ts";

/** The heartbeat's delivery counters (see PROTOCOL.md). */
export interface DeliveryStats {
  queue: Required<HeartbeatQueue>;
  delivery: HeartbeatDelivery;
}

/** The running event path. */
export interface Pipeline {
  readonly factory: EventFactory;
  readonly queue: EventQueue;
  readonly transport: Transport;
  /** Queues an event (redacted here, once) and wakes the sender. */
  emit(event: AgentEvent): void;
  stats(): DeliveryStats;
  /** Stops delivering: flushes for up to `flushMs` (0: not at all), closes the socket and the spool. */
  close(flushMs: number): Promise<{ flushed: boolean }>;
  /** Hands the queue over to the next process (for a restart without a spool). */
  handOver(): void;
}

/** Builds the pipeline and starts the sender. */
export async function startPipeline(
  config: AgentConfig,
  log: Logger,
  redactor: () => Redactor,
): Promise<Pipeline> {
  const factory = new EventFactory({ agent: config.agentId });
  let corrupt = 0;
  let spool: Spool | undefined;
  let carried: { pos: number; createdAt: number; data: string }[] = [];
  if (config.spoolDir) {
    try {
      // Loaded only with a spool: an agent without one need not hold its code.
      const { Spool } = await import("./spool/spool.ts");
      const replay = Spool.open({ dir: config.spoolDir, log });
      spool = replay.spool;
      carried = replay.events;
      corrupt = replay.corrupt;
    } catch (error) {
      log.error("spool: cannot open QUEUE_SPOOL_DIR; events are kept in memory only", {
        dir: config.spoolDir,
        error,
      });
    }
  } else if (config.handover) {
    const handed = await readHandover();
    carried = handed.events;
    corrupt = handed.corrupt;
  }
  const queue = new EventQueue(config.queueMaxEvents, config.queueOverflow, {
    spool,
    maxBytes: spool ? config.spoolMaxBytes : undefined,
    maxAgeMs: config.queueMaxAgeMs,
  });
  const restoredDrops = queue.restore(carried);
  if (carried.length > 0) {
    log.info(`${carried.length - restoredDrops} event(s) of an earlier run go first`, {
      from: spool ? "spool" : "hand-over",
      dropped: restoredDrops,
      corrupt_skipped: corrupt,
    });
  }
  const transport = new Transport({
    url: config.monitoringUrl,
    token: config.monitoringToken,
    queue,
    clock: realClock,
    log,
    connectTimeoutMs: config.monitoringConnectTimeoutMs,
    socketFactory: await monitoringSocketFactory(config.monitoringTls),
  });
  const drops = createDropLog({
    log,
    message: (n) => `queue full (${config.queueMaxEvents} events): dropped ${n} event(s)`,
    fields: () => ({ policy: config.queueOverflow, dropped_total: queue.dropped }),
  });
  const maintenance = setInterval(() => maintain(queue, spool, config), 1_000);
  const dropTimer = setInterval(drops.flush, 5_000);
  transport.start();

  return {
    factory,
    queue,
    transport,
    emit(event) {
      drops.record(
        queue.push({ seq: event.seq, run: event.run, id: event.id, data: redactor().json(event) }),
      );
      transport.notify();
    },
    stats() {
      const q = queue.stats();
      const d = transport.delivery;
      return {
        queue: {
          size: q.size,
          dropped: queue.dropped,
          in_flight: q.inFlight,
          bytes: q.bytes,
          spooled_bytes: spool?.bytes ?? 0,
          dropped_overflow: q.droppedOverflow,
          dropped_age: q.droppedAge,
          corrupt_skipped: corrupt,
        },
        delivery: {
          sent: d.sent,
          acked: d.acked,
          resent: d.resent,
          written_unconfirmed: d.written,
          reconnects: Math.max(0, transport.connections - 1),
          last_sent_at: d.lastSentAt === undefined ? null : new Date(d.lastSentAt).toISOString(),
          ignored: d.ignored,
        },
      };
    },
    async close(flushMs) {
      clearInterval(maintenance);
      clearInterval(dropTimer);
      const flushed = flushMs > 0 ? await transport.flush(flushMs) : queue.size === 0;
      drops.flush();
      await transport.close();
      spool?.close();
      return { flushed };
    },
    handOver() {
      if (!spool) writeHandover(queue.waiting());
    },
  };
}

/** Once a second: expire old events, and keep the spool small and alive. */
function maintain(queue: EventQueue, spool: Spool | undefined, config: AgentConfig): void {
  queue.expire();
  if (!spool) return;
  // Resolved records take room until their segment goes: rewrite when they are most of it.
  const oversized = spool.bytes > 2 * Math.max(config.spoolMaxBytes, 8 * 1024 * 1024);
  if (spool.retryDue() || (!spool.degraded && oversized)) spool.rewrite(queue.waiting());
}
