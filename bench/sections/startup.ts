/**
 * Rows of start-up and the idle footprint: start → first event, the TCP-only
 * agent's peak RSS, and the unique memory of `deno task start`'s tree.
 *
 * @module
 */

import { Receiver } from "../agent_process.ts";
import { measureStartup } from "../startup.ts";
import { mb, median, ms, type Row, verdict } from "../table.ts";
import { shortName, type TreeMemory } from "../tree.ts";
import type { SectionContext } from "./context.ts";

const SECTION = "Start-up and footprint (TCP only, 10 loopback targets every 1 s)";
const RUNS = 5;

/** The tree's USS beyond the agent, KiB. */
const beyondAgent = (tree: TreeMemory) => tree.others.reduce((sum, p) => sum + p.ussKiB, 0);

/** `deno task start 4.6 MB, launcher.ts 15.2 MB` for one tree (the median run's). */
function breakdown(tree: TreeMemory): string {
  return tree.others.map((p) => `${shortName(p.args)} ${mb(p.ussKiB)}`).join(", ");
}

/** Measures and returns the section's rows. */
export async function startupRows(ctx: SectionContext): Promise<Row[]> {
  const receiver = await Receiver.start();
  try {
    const f = await measureStartup(receiver, ctx.dir, RUNS, ctx.progress);
    const task = median(f.taskMs);
    const direct = median(f.directMs);
    const wsScript = median(f.wsScriptMs);
    const agentHwm = median(f.agentHwmKiB);
    const idleHwm = median(f.idleHwmKiB);
    const beyond = f.trees.map(beyondAgent);
    const tree = median(beyond);
    // The breakdown of the run nearest to the median.
    const typical = f.trees[
      beyond.indexOf(
        beyond.reduce((a, b) => Math.abs(b - tree) < Math.abs(a - tree) ? b : a),
      )
    ];
    const agentUss = median(f.trees.map((t) => t.agent?.ussKiB ?? NaN));
    const agentRss = median(f.trees.map((t) => t.agent?.rssKiB ?? NaN));
    return [
      {
        section: SECTION,
        figure: `start → first event at the receiver, \`deno task start\` (median of ${RUNS})`,
        measured: ms(task),
        reference: `\`deno run <flags> main.ts start\` ${ms(direct)}; a minimal WebSocket script ${
          ms(wsScript)
        }`,
        target: "≤ 200 ms",
        verdict: verdict(
          task,
          "<=",
          200,
          () =>
            `\`deno run main.ts\` alone takes ${
              ms(direct)
            }; the task runner and what it starts add ${ms(task - direct)}`,
        ),
        values: { task_ms: task, direct_ms: direct, ws_script_ms: wsScript },
      },
      {
        section: SECTION,
        figure: `agent peak RSS (VmHWM), TCP only, after 2 s (median of ${RUNS})`,
        measured: mb(agentHwm),
        reference: `empty \`deno run\` ${mb(idleHwm)} (median of ${f.idleHwmKiB.length})`,
        target: "≤ 45 MB",
        verdict: verdict(
          agentHwm / 1024,
          "<=",
          45,
          () =>
            `an empty \`deno run\` peaks at ${mb(idleHwm)}; the agent adds ${
              mb(agentHwm - idleHwm)
            } to it`,
        ),
        values: { agent_hwm_kib: agentHwm, idle_hwm_kib: idleHwm },
      },
      {
        section: SECTION,
        figure: `\`deno task start\` tree: USS of every process but the agent (median of ${RUNS})`,
        measured: mb(tree),
        reference: `the agent: USS ${mb(agentUss)}, RSS ${mb(agentRss)}; the rest: ${
          breakdown(typical)
        }`,
        target: "≤ 15 MB",
        verdict: verdict(tree / 1024, "<=", 15, () => {
          const largest = [...typical.others].sort((a, b) => b.ussKiB - a.ussKiB)[0];
          return `${shortName(largest.args)} alone holds ${mb(largest.ussKiB)} of unique memory`;
        }),
        values: { tree_uss_kib: tree, agent_uss_kib: agentUss, agent_rss_kib: agentRss },
      },
    ];
  } finally {
    await receiver.stop();
  }
}
