/**
 * `deno task bench`: every figure of issue 16 next to its reference measured
 * in the same run, as one Markdown table on stdout (progress lines go to
 * stderr). Each section measures in its own module under bench/ and returns
 * rows; a section that fails, or whose peer is not installed, says so in its
 * row and the others still run.
 *
 *   deno task bench [--json] [--only=startup,modules,scale,sweep,delivery,metrics,tls]
 *
 * @module
 */

import { stopEverything } from "./interrupt.ts";
import type { SectionContext } from "./sections/context.ts";
import { deliveryRows, metricsRows, tlsRows } from "./sections/delivery.ts";
import { moduleRows } from "./sections/modules.ts";
import { startupRows } from "./sections/startup.ts";
import { scaleRows, sweepRows } from "./sections/tcp.ts";
import { missingRow, renderTable, type Row } from "./table.ts";

const SECTIONS: Record<string, (ctx: SectionContext) => Promise<Row[]>> = {
  startup: startupRows,
  modules: moduleRows,
  // Before the 1,000-target sweep: 10,000 listeners open slowly while earlier sweeps' sockets
  // sit in TIME_WAIT (60 s), since the kernel then searches longer for each free port.
  scale: scaleRows,
  sweep: sweepRows,
  delivery: deliveryRows,
  metrics: metricsRows,
  tls: tlsRows,
};

const USAGE = `usage: deno task bench [--json] [--only=${Object.keys(SECTIONS).join(",")}]`;

/** The options of the command line, or the usage text. */
export function parseArgs(args: string[]): { json: boolean; only: string[] } | string {
  let json = false;
  let only = Object.keys(SECTIONS);
  for (const arg of args) {
    if (arg === "--json") json = true;
    else if (arg.startsWith("--only=")) {
      only = arg.slice("--only=".length).split(",").filter((s) => s !== "");
      const unknown = only.filter((s) => !(s in SECTIONS));
      if (unknown.length > 0 || only.length === 0) return `unknown section ${unknown}\n${USAGE}`;
    } else return USAGE;
  }
  return { json, only };
}

async function main(args: string[]): Promise<number> {
  const options = parseArgs(args);
  if (typeof options === "string") {
    console.error(options);
    return 2;
  }
  const began = performance.now();
  const progress = (line: string) =>
    console.error(`[${((performance.now() - began) / 1000).toFixed(1).padStart(6)} s] ${line}`);
  const dir = await Deno.makeTempDir({ prefix: "kozak-bench-" });
  const interrupted = async () => {
    progress("interrupted: stopping every process the bench started");
    await stopEverything();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    Deno.exit(130);
  };
  Deno.addSignalListener("SIGINT", interrupted);
  Deno.addSignalListener("SIGTERM", interrupted);
  const rows: Row[] = [];
  try {
    for (const key of options.only) {
      progress(`section ${key}`);
      try {
        rows.push(...await SECTIONS[key]({ dir, progress }));
      } catch (error) {
        const message = (error as Error).message.split("\n")[0].slice(0, 200);
        progress(`section ${key} failed: ${(error as Error).stack ?? message}`);
        rows.push(missingRow(key, `the ${key} section`, "—", `failed: ${message}`));
      }
    }
  } finally {
    await stopEverything();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
  const seconds = (performance.now() - began) / 1000;
  const machine = {
    date: new Date().toISOString().slice(0, 10),
    cores: navigator.hardwareConcurrency,
    deno: Deno.version.deno,
    seconds: Math.round(seconds),
  };
  progress(`done in ${seconds.toFixed(0)} s`);
  if (options.json) {
    console.log(JSON.stringify({ ...machine, rows }, null, 2));
  } else {
    console.log(renderTable(rows));
    console.log(
      `\nMeasured ${machine.date} on ${machine.cores} cores, Deno ${machine.deno}, ` +
        `loopback only; the whole run took ${machine.seconds} s.`,
    );
  }
  return 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
