/**
 * Rows of delivery: events per second into the mock (the agent's transport
 * and a bare loop), the figures of bench/delivery.ts (spool, recovery,
 * replay), of the metrics endpoint and of TLS to the monitoring server.
 *
 * @module
 */

import { findBinary } from "../../tests/support/binaries.ts";
import { Receiver } from "../agent_process.ts";
import { ackedEventsPerSecond, recoveryMs, replayMs } from "../delivery.ts";
import { metricsMemory, renderFigures } from "../metrics.ts";
import { mockRates } from "../mock_rate.ts";
import { count, mb, median, missingRow, ms, type Row, times, verdict } from "../table.ts";
import { acceptAndClose } from "../tcp_sweep.ts";
import { COUNT as TLS_COUNT, tlsFigures } from "../transport_tls.ts";
import type { SectionContext } from "./context.ts";

const MOCK_EVENTS = 10_000;
const MOCK_RUNS = 5;
const SPOOL_EVENTS = 20_000;
const SPOOL_RUNS = 3;

const rate = (perSecond: number) => `${count(perSecond)}/s`;

/** Delivery rows: the mock, the spool, recovery, replay. */
export async function deliveryRows(ctx: SectionContext): Promise<Row[]> {
  const section = "Delivery (check events of ~330 B, acked)";
  ctx.progress("events into the mock");
  const mock = await mockRates(MOCK_EVENTS, MOCK_RUNS);
  const agent = median(mock.pipeline);
  const bare = median(mock.bare);
  ctx.progress("events with and without the spool");
  const plain: number[] = [];
  const spooled: number[] = [];
  for (let i = 0; i < SPOOL_RUNS; i++) {
    plain.push(await ackedEventsPerSecond(SPOOL_EVENTS));
    spooled.push(await ackedEventsPerSecond(SPOOL_EVENTS, `${ctx.dir}/spool-${i}`));
  }
  ctx.progress("recovery after a 5 s outage, spool replay");
  const recovery = await recoveryMs();
  const replays: number[] = [];
  for (let i = 0; i < SPOOL_RUNS; i++) replays.push(replayMs(10_000, `${ctx.dir}/replay-${i}`));
  const [withoutSpool, withSpool, replay] = [median(plain), median(spooled), median(replays)];
  return [
    {
      section,
      figure: `${
        count(MOCK_EVENTS)
      } events into the mock process: queue + transport (median of ${MOCK_RUNS})`,
      measured: `${rate(agent)} (${times(agent / bare)} bare)`,
      reference: `a bare WebSocket loop to the same mock, to the last ack: ${rate(bare)}`,
      target: "—",
      verdict: "—",
      values: { agent_per_s: agent, bare_per_s: bare },
    },
    {
      section,
      figure: `${
        count(SPOOL_EVENTS)
      } events into a server in the bench process, with the spool (median of ${SPOOL_RUNS})`,
      measured: `${rate(withSpool)} (${(100 * (1 - withSpool / withoutSpool)).toFixed(0)} % less)`,
      reference: `without the spool ${rate(withoutSpool)}`,
      target: "—",
      verdict: "—",
      values: { spool_per_s: withSpool, plain_per_s: withoutSpool },
    },
    {
      section,
      figure: "recovery: the server back after a 5 s outage → the first event delivered",
      measured: ms(recovery),
      reference: "—",
      target: "—",
      verdict: "—",
      values: { recovery_ms: recovery },
    },
    {
      section,
      figure: `replay of 10,000 spooled events at start (median of ${SPOOL_RUNS})`,
      measured: ms(replay),
      reference: "—",
      target: "—",
      verdict: "—",
      values: { replay_ms: replay },
    },
  ];
}

/** Metrics rows: rendering 1,000 instances, and the agent's RSS with the endpoint off and on. */
export async function metricsRows(ctx: SectionContext): Promise<Row[]> {
  const section = "Metrics (`METRICS_LISTEN`, remote write)";
  const render = renderFigures(1_000, 50);
  ctx.progress("three agents with 1,000 targets: metrics off, on, remote write");
  const listeners = await acceptAndClose(1_000);
  const receiver = await Receiver.start();
  try {
    const memory = await metricsMemory(listeners, receiver.url, ctx.dir);
    const against = `endpoint off ${mb(memory.offKiB)}`;
    return [
      {
        section,
        figure: `render \`/metrics\` for 1,000 instances (${
          (render.bytes / 1e6).toFixed(1)
        } MB of text; median of 50)`,
        measured: ms(render.ms),
        reference: "—",
        target: "< 10 ms",
        verdict: verdict(render.ms, "<", 10, () => "the exposition is built anew on each scrape"),
        values: { render_ms: render.ms, bytes: render.bytes },
      },
      {
        section,
        figure:
          "agent RSS, 1,000 targets every 2 s, endpoint on and scraped every 0.5 s (after 8 s)",
        measured: mb(memory.onKiB),
        reference: `${against}: +${mb(memory.onKiB - memory.offKiB)}`,
        target: "—",
        verdict: "—",
        values: { on_kib: memory.onKiB, off_kib: memory.offKiB },
      },
      {
        section,
        figure: "the same with remote write every 1 s as well",
        measured: mb(memory.remoteWriteKiB),
        reference: `${against}: +${mb(memory.remoteWriteKiB - memory.offKiB)}`,
        target: "—",
        verdict: "—",
        values: { remote_write_kib: memory.remoteWriteKiB, off_kib: memory.offKiB },
      },
    ];
  } finally {
    await receiver.stop();
    listeners.close();
  }
}

/** TLS rows: events/s and RSS of each client path, from fresh processes. */
export async function tlsRows(ctx: SectionContext): Promise<Row[]> {
  const section = `TLS to the monitoring server (${
    count(TLS_COUNT)
  } events acked one by one; fresh processes, median of 3)`;
  if (!findBinary("/usr/bin/openssl")) {
    return [missingRow(section, "events/s over wss://", "—", "not installed (openssl)")];
  }
  ctx.progress("TLS: native ws://, native wss://, TlsWebSocket");
  const figures = await tlsFigures(3);
  const plain = figures[0];
  return figures.map((f, i) => ({
    section,
    figure: `${f.mode}: events/s, and RSS after`,
    measured: `${rate(f.rate)}, ${f.rssMiB.toFixed(1)} MB`,
    reference: i === 0 ? "—" : `${plain.mode} ${rate(plain.rate)}, ${plain.rssMiB.toFixed(1)} MB`,
    target: "—",
    verdict: "—",
    values: { per_s: f.rate, rss_mib: f.rssMiB },
  }));
}
