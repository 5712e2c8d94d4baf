/**
 * Rows of the TCP sweeps: 1,000 targets in this process (the agent's
 * pipeline, the bare loop, check_tcp, blackbox_exporter) and 10,000 targets
 * in the real agent process, with and without `--max-semi-space-size=1`.
 *
 * @module
 */

import { AGENT_V8_FLAGS } from "../../src/launcher_flags.ts";
import { Receiver } from "../agent_process.ts";
import { checkTcpSweep, startBlackbox } from "../peers.ts";
import {
  agentAtScale,
  bareAtScale,
  checkAtScale,
  CONCURRENCY,
  pipelineAtScale,
  type ScaleRun,
} from "../scale.ts";
import { acceptAndClose, agentSweep, alternate, bareSweep } from "../tcp_sweep.ts";
import { count, mb, median, missingRow, ms, type Row, times, verdict } from "../table.ts";
import { perItemKb, perItemUs, type SectionContext } from "./context.ts";

const SMALL = 1_000;
const SMALL_RUNS = 7;
const PEER_RUNS = 3;
const LARGE = 10_000;
const LARGE_RUNS = 3;
/** The agent's V8 settings, as `deno task start` gives them (without `--v8-flags=`). */
const SEMI = AGENT_V8_FLAGS.map((f) => f.replace(/^--v8-flags=/, "")).join(",");
/** What an operator may add for less memory at some speed (README "Performance"). */
const OPTIMIZE_FOR_SIZE = "--optimize-for-size";

/** Rows of one sweep of 1,000 targets. */
export async function sweepRows(ctx: SectionContext): Promise<Row[]> {
  const section = `${count(SMALL)} TCP targets, one sweep (loopback, ${CONCURRENCY} at a time)`;
  const listeners = await acceptAndClose(SMALL);
  try {
    ctx.progress(`${SMALL} targets: agent pipeline and bare loop`);
    const r = await alternate({
      agent: await agentSweep(listeners.ports, CONCURRENCY),
      bare: bareSweep(listeners.ports, CONCURRENCY),
    }, SMALL_RUNS);
    const agent = median(r.agent);
    const bare = median(r.bare);
    const rows: Row[] = [{
      section,
      figure: `agent pipeline in-process: scheduler → events → queue (median of ${SMALL_RUNS})`,
      measured: `${ms(agent)} (${times(agent / bare)} bare)`,
      reference: `bare \`Deno.connect\` loop ${ms(bare)}`,
      target: "≤ 1.2× bare",
      verdict: verdict(
        agent / bare,
        "<=",
        1.2,
        () =>
          `the pipeline adds ${perItemUs(agent - bare, SMALL)} per target to a bare connect (${
            perItemUs(bare, SMALL)
          })`,
      ),
      values: { agent_ms: agent, bare_ms: bare },
    }];
    const peer = async (
      figure: string,
      sweep: (() => Promise<number>) | undefined,
      why: string,
    ): Promise<void> => {
      if (!sweep) {
        rows.push(missingRow(section, figure, "—", why));
        return;
      }
      ctx.progress(figure);
      const results: number[] = [];
      for (let i = 0; i < PEER_RUNS; i++) results.push(await sweep());
      const value = median(results);
      rows.push({
        section,
        figure: `${figure} (median of ${PEER_RUNS})`,
        measured: `${ms(value)} (${times(value / bare)} bare)`,
        reference: `bare loop ${ms(bare)}; the agent ${ms(agent)}`,
        target: "—",
        verdict: "—",
        values: { ms: value, bare_ms: bare },
      });
    };
    await peer(
      "`check_tcp`, one process per target, 8 at a time",
      checkTcpSweep(listeners.ports),
      "not installed (monitoring-plugins-basic)",
    );
    const blackbox = await startBlackbox(listeners.ports, ctx.dir);
    try {
      await peer(
        "blackbox_exporter `tcp_connect` via `/probe`, 8 at a time",
        blackbox?.sweep,
        "not installed (prometheus-blackbox-exporter)",
      );
    } finally {
      await blackbox?.stop();
    }
    return rows;
  } finally {
    listeners.close();
  }
}

/** Rows of 10,000 targets in the real agent process. */
export async function scaleRows(ctx: SectionContext): Promise<Row[]> {
  const section = `${
    count(LARGE)
  } TCP targets, the real agent process (TCP_CHECKS in AGENT_ENV_FILE)`;
  ctx.progress(`opening ${LARGE} listeners`);
  const listeners = await acceptAndClose(LARGE);
  const receiver = await Receiver.start();
  try {
    const runs: Record<"plain" | "semi" | "size" | "bare", ScaleRun[]> = {
      plain: [],
      semi: [],
      size: [],
      bare: [],
    };
    for (let i = 1; i <= LARGE_RUNS; i++) {
      ctx.progress(`${LARGE} targets, round ${i}/${LARGE_RUNS}`);
      runs.bare.push(await bareAtScale(ctx.dir, listeners.ports));
      runs.plain.push(await agentAtScale(receiver, ctx.dir, `bench-10k-${i}`, listeners.ports, []));
      // With DENO_V8_FLAGS=--optimize-for-size too: the trade-off the README offers.
      runs.size.push(
        await agentAtScale(
          receiver,
          ctx.dir,
          `bench-10k-size-${i}`,
          listeners.ports,
          [...SEMI.split(","), OPTIMIZE_FOR_SIZE],
        ),
      );
      runs.semi.push(
        await agentAtScale(
          receiver,
          ctx.dir,
          `bench-10k-semi-${i}`,
          listeners.ports,
          SEMI.split(","),
        ),
      );
    }
    // For the breakdown, once each (every sweep leaves 10,000 sockets in TIME_WAIT for 60 s):
    // the sweep without delivery, the pipeline alone, and the agent with 10 of the targets.
    ctx.progress(`${LARGE} targets: \`main.ts check\`, the pipeline alone, an agent with 10`);
    const checkMs = await checkAtScale(ctx.dir, listeners.ports);
    const pipelineMs = await pipelineAtScale(ctx.dir, listeners.ports);
    const small = await agentAtScale(
      receiver,
      ctx.dir,
      "bench-10",
      listeners.ports.slice(0, 10),
      SEMI.split(","),
    );
    const bareMs = median(runs.bare.map((r) => r.sweepMs));
    const bareHwm = median(runs.bare.map((r) => r.hwmKiB));
    const agents = [...runs.plain, ...runs.semi, ...runs.size];
    const arrived = Math.min(...agents.map((r) => r.arrived));
    const okAll = Math.min(...agents.map((r) => r.ok));
    const rows: Row[] = [{
      section,
      figure: `every result arrives at the receiver (${agents.length} agent runs)`,
      measured: `${count(arrived)} of ${count(LARGE)} in the worst run (${count(okAll)} ok)`,
      reference: `bare loop: ${count(Math.min(...runs.bare.map((r) => r.ok)))} connects`,
      target: `all ${count(LARGE)}`,
      verdict: arrived === LARGE ? "met" : `not met: ${count(LARGE - arrived)} results missing`,
      values: { arrived_min: arrived, ok_min: okAll },
    }];
    const hwmPlain = median(runs.plain.map((r) => r.hwmKiB));
    const hwmSemi = median(runs.semi.map((r) => r.hwmKiB));
    const labels = [
      ["semi", `as \`deno task start\` runs it (\`${SEMI}\`)`],
      ["size", `with \`DENO_V8_FLAGS=${OPTIMIZE_FOR_SIZE}\` as well`],
      ["plain", "V8's defaults"],
    ] as const;
    for (const [key, flags] of labels) {
      const sweep = median(runs[key].map((r) => r.sweepMs));
      const hwm = median(runs[key].map((r) => r.hwmKiB));
      rows.push({
        section,
        figure:
          `sweep time, ${flags} (first start to last end, from the events; median of ${LARGE_RUNS})`,
        measured: `${ms(sweep)} (${times(sweep / bareMs)} bare)`,
        reference: `bare \`Deno.connect\` loop in its own process ${ms(bareMs)}`,
        target: "≤ 1.5× bare",
        verdict: verdict(
          sweep / bareMs,
          "<=",
          1.5,
          () =>
            `without delivery (\`main.ts check\`, 1 run) ${ms(checkMs)} (${
              times(checkMs / bareMs)
            }); the pipeline alone in its own process (1 run) ${ms(pipelineMs)} (${
              times(pipelineMs / bareMs)
            })`,
        ),
        values: { sweep_ms: sweep, bare_ms: bareMs, check_ms: checkMs, pipeline_ms: pipelineMs },
      }, {
        section,
        figure: `peak RSS, ${flags} (median of ${LARGE_RUNS})`,
        measured: mb(hwm),
        reference: `bare loop ${mb(bareHwm)}; the agent with 10 targets ${mb(small.hwmKiB)}`,
        target: "≤ 100 MB",
        verdict: verdict(
          hwm / 1024,
          "<=",
          100,
          () =>
            `${perItemKb(hwm - small.hwmKiB, LARGE - 10)} per target over the agent with 10${
              key === "semi"
                ? `; with V8's defaults ${mb(hwmPlain)}: \`${SEMI}\` takes ${
                  mb(hwmPlain - hwmSemi)
                } off (V8's young generation)`
                : ""
            }`,
        ),
        values: { hwm_kib: hwm, bare_hwm_kib: bareHwm, agent10_hwm_kib: small.hwmKiB },
      });
    }
    return rows;
  } finally {
    await receiver.stop();
    listeners.close();
  }
}
