/**
 * Rows of the agent against real servers: peak RSS per module alone and all
 * together, the CPU share at default intervals, and the peak RSS after that
 * window.
 *
 * @module
 */

import { Receiver } from "../agent_process.ts";
import { cpuShare, type ModuleRun, moduleRun } from "../modules.ts";
import { MODULE_NAMES, type ModuleName, startServers } from "../servers.ts";
import { idleHwmKiB } from "../startup.ts";
import { mb, median, missingRow, type Row, verdict } from "../table.ts";
import type { SectionContext } from "./context.ts";

const SECTION = "Modules against real servers (every check each second; peak RSS after ~3 runs)";
const CPU_SECTION = "CPU at the default intervals (checks every 30 s, heartbeat every 15 s)";
const ALL_RUNS = 3;
const WINDOW_MS = 30_000;

/** `—`, or a warning when a check did not come back ok (the figure then measures a failure). */
function checksNote(run: ModuleRun): string {
  const bad = Object.entries(run.statuses).filter(([k]) => k !== "ok");
  return bad.length === 0 ? "—" : `checks not ok: ${bad.map(([k, n]) => `${k} ×${n}`).join(", ")}`;
}

/** Measures and returns the section's rows. */
export async function moduleRows(ctx: SectionContext): Promise<Row[]> {
  const servers = await startServers(ctx.progress);
  const receiver = await Receiver.start();
  try {
    const rows: Row[] = [];
    const alone = new Map<ModuleName, ModuleRun>();
    for (const name of MODULE_NAMES) {
      const target = servers.targets[name];
      const figure = `agent peak RSS, ${name} alone`;
      if (!target.ok) {
        rows.push(missingRow(SECTION, figure, "—", target.why));
        continue;
      }
      ctx.progress(`${name} alone`);
      try {
        alone.set(name, await moduleRun(servers, receiver, ctx.dir, `bench-${name}`, [name]));
      } catch (error) {
        rows.push(missingRow(SECTION, figure, "—", `failed: ${(error as Error).message}`));
      }
    }
    const tcp = alone.get("tcp");
    for (const [name, run] of alone) {
      const what = servers.targets[name];
      rows.push({
        section: SECTION,
        figure: `agent peak RSS, ${name} alone (${what.ok ? what.what : ""})`,
        measured: mb(run.hwmKiB),
        reference: name === "tcp" || !tcp
          ? "—"
          : `TCP alone ${mb(tcp.hwmKiB)}: +${mb(run.hwmKiB - tcp.hwmKiB)}`,
        target: "—",
        verdict: checksNote(run),
        values: { hwm_kib: run.hwmKiB },
      });
    }

    const running = MODULE_NAMES.filter((m) => servers.targets[m].ok);
    const missing = MODULE_NAMES.filter((m) => !servers.targets[m].ok);
    const label = `${running.length} modules${missing.length ? ` (no ${missing.join(", ")})` : ""}`;
    const idle = await idleHwmKiB();
    const together: ModuleRun[] = [];
    for (let i = 1; i <= ALL_RUNS; i++) {
      ctx.progress(`all ${running.length} modules together, run ${i}/${ALL_RUNS}`);
      together.push(await moduleRun(servers, receiver, ctx.dir, `bench-all-${i}`, running));
    }
    const all = median(together.map((r) => r.hwmKiB));
    const drivers = (["ssh", "postgres", "mysql"] as const)
      .filter((m) => alone.has(m) && tcp)
      .map((m) => `${m} +${mb(alone.get(m)!.hwmKiB - tcp!.hwmKiB)}`).join(", ");
    rows.push({
      section: SECTION,
      figure: `agent peak RSS, all ${label} together (median of ${ALL_RUNS})`,
      measured: mb(all),
      reference: `empty \`deno run\` ${mb(idle)}`,
      target: "≤ 75 MB",
      verdict: verdict(
        all / 1024,
        "<=",
        75,
        () => `TCP alone is ${tcp ? mb(tcp.hwmKiB) : "?"}; alone, the drivers add ${drivers}`,
      ),
      values: { hwm_kib: all, idle_hwm_kib: idle },
    });

    ctx.progress(`CPU share over ${WINDOW_MS / 1000} s with ${running.length} modules`);
    const cpu = await cpuShare(servers, receiver, ctx.dir, running, WINDOW_MS);
    rows.push({
      section: CPU_SECTION,
      figure: `CPU (utime+stime) of the agent, ${label}, over ${
        Math.round(cpu.windowS)
      } s after start-up`,
      measured: `${cpu.agentPct.toFixed(2)} % of a core`,
      reference: `empty \`deno run\` over the same window ${cpu.idlePct.toFixed(2)} %`,
      target: "< 0.5 %",
      verdict: verdict(
        cpu.agentPct,
        "<",
        0.5,
        () =>
          `${(cpu.agentPct * cpu.windowS * 10).toFixed(0)} ms of CPU in ${
            Math.round(cpu.windowS)
          } s for one run of each check and two heartbeats`,
      ),
      values: { agent_pct: cpu.agentPct, idle_pct: cpu.idlePct, window_s: cpu.windowS },
    });
    rows.push({
      section: CPU_SECTION,
      figure: `agent peak RSS after that window, ${label}`,
      measured: mb(cpu.hwmKiB),
      reference: `every second instead: ${mb(all)}`,
      target: "≤ 75 MB",
      verdict: verdict(
        cpu.hwmKiB / 1024,
        "<=",
        75,
        () => `the same drivers as above; an empty \`deno run\` is ${mb(idle)}`,
      ),
      values: { hwm_kib: cpu.hwmKiB },
    });
    return rows;
  } finally {
    await receiver.stop();
    await servers.stop();
  }
}
