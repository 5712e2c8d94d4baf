/**
 * The agent's pipeline (bench/tcp_sweep.ts: scheduler, events, redactor,
 * queue; no `main.ts`, no delivery) in a process of its own, one sweep over
 * the ports listed in a file, so that the listeners do not share its event
 * loop. Prints `{"ms":…}`.
 *
 *   deno run --allow-read --allow-net=127.0.0.1 bench/child/pipeline_sweep.ts PORTS_FILE 64
 *
 * @module
 */

import { agentSweep } from "../tcp_sweep.ts";

if (import.meta.main) {
  const [file, concurrencyText] = Deno.args;
  const ports = (await Deno.readTextFile(file)).trim().split("\n").map(Number);
  const sweep = await agentSweep(ports, Number(concurrencyText));
  console.log(JSON.stringify({ ms: await sweep() }));
}
