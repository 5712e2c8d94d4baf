/**
 * The peers of the TCP sweep, when installed (`apt-get install
 * monitoring-plugins-basic prometheus-blackbox-exporter`; CI need not):
 * Nagios' `check_tcp`, one process per target, 8 at a time; and Prometheus'
 * blackbox_exporter, one `tcp_connect` probe per target through its HTTP
 * `/probe` endpoint, 8 at a time. Each sweep checks that every target was up.
 *
 * @module
 */

import { findBinary, freePort } from "../tests/support/binaries.ts";
import { stopChild } from "../tests/support/child.ts";
import { waitFor } from "../tests/support/processes.ts";
import { untilDone } from "./interrupt.ts";
import type { Sweep } from "./tcp_sweep.ts";

/** Where Debian puts them. */
export const CHECK_TCP = "/usr/lib/nagios/plugins/check_tcp";
export const BLACKBOX = "/usr/bin/prometheus-blackbox-exporter";

/** Runs `task` on every item, `parallel` at a time. */
async function pool<T>(items: T[], parallel: number, task: (item: T) => Promise<void>) {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await task(items[next++]);
  };
  await Promise.all(Array.from({ length: parallel }, worker));
}

/** `check_tcp -H 127.0.0.1 -p PORT` for every port, `parallel` processes at a time; undefined when missing. */
export function checkTcpSweep(ports: number[], parallel = 8): Sweep | undefined {
  if (!findBinary(CHECK_TCP)) return undefined;
  return async () => {
    let ok = 0;
    const started = performance.now();
    await pool(ports, parallel, async (port) => {
      const out = await new Deno.Command(CHECK_TCP, {
        args: ["-H", "127.0.0.1", "-p", String(port), "-t", "5"],
        stdin: "null",
        stdout: "null",
        stderr: "null",
      }).output();
      if (out.code === 0) ok += 1;
    });
    const elapsed = performance.now() - started;
    if (ok !== ports.length) throw new Error(`check_tcp: only ${ok} of ${ports.length} were OK`);
    return elapsed;
  };
}

/** A running blackbox_exporter and its sweep. */
export interface Blackbox {
  sweep: Sweep;
  stop(): Promise<void>;
}

/** Starts blackbox_exporter on a free loopback port with a `tcp_connect` module; undefined when missing. */
export async function startBlackbox(
  ports: number[],
  dir: string,
  parallel = 8,
): Promise<Blackbox | undefined> {
  if (!findBinary(BLACKBOX)) return undefined;
  const config = `${dir}/blackbox.yml`;
  await Deno.writeTextFile(config, "modules:\n  tcp_connect:\n    prober: tcp\n    timeout: 5s\n");
  const port = freePort();
  const child = new Deno.Command(BLACKBOX, {
    args: [
      `--config.file=${config}`,
      `--web.listen-address=127.0.0.1:${port}`,
      "--log.level=error",
    ],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  const base = `http://127.0.0.1:${port}`;
  const done = untilDone(() => child.kill("SIGKILL"));
  const stop = async () => {
    await stopChild(child, 5_000);
    done();
  };
  try {
    await waitFor("blackbox_exporter to listen", async () => {
      try {
        const response = await fetch(`${base}/-/healthy`);
        await response.body?.cancel();
        return response.ok;
      } catch {
        return false;
      }
    }, 10_000);
  } catch (error) {
    await stop();
    throw error;
  }
  // One HTTP client with keep-alive, as Prometheus would scrape it.
  const client = Deno.createHttpClient({});
  const sweep = async () => {
    let ok = 0;
    const started = performance.now();
    await pool(ports, parallel, async (target) => {
      const response = await fetch(
        `${base}/probe?module=tcp_connect&target=127.0.0.1:${target}`,
        { client },
      );
      if (/^probe_success 1$/m.test(await response.text())) ok += 1;
    });
    const elapsed = performance.now() - started;
    if (ok !== ports.length) throw new Error(`blackbox: only ${ok} of ${ports.length} succeeded`);
    return elapsed;
  };
  return {
    sweep,
    async stop() {
      client.close();
      await stop();
    },
  };
}
