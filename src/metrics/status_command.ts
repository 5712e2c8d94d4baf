/**
 * `deno task status [--json]`: finds the running agent through
 * `AGENT_STATUS_FILE` (a file younger than {@link MAX_STATUS_AGE_MS}) or
 * through `METRICS_LISTEN` (`GET /status`), read from the environment and
 * the env files as the agent reads them, and prints its state. Exit 0 with
 * a report, 1 when no running agent is found (with a hint how to make one
 * findable), 2 for a bad `METRICS_LISTEN`.
 *
 * It may read files (the env files and the status file can be anywhere),
 * read only its three variables, and connect only to loopback: a listener
 * on every address (`0.0.0.0`, `[::]`) is asked on loopback.
 *
 * @module
 */

import type { EnvReader } from "../check.ts";
import { ConfigValueError, optional } from "../config_values.ts";
import { loadEnv } from "../env_files.ts";
import { readRegularFileSync, unreadableWhy } from "../read_file.ts";
import { type AgentStatus, parseStatus } from "../status_file.ts";
import { parseListen } from "./config.ts";
import { ago, renderStatus } from "./status_render.ts";

/** A status file older than this is an agent that is gone (it is rewritten every 5 s). */
export const MAX_STATUS_AGE_MS = 20_000;

/** What the command needs from the world; injectable for tests. */
export interface StatusIO {
  env: EnvReader;
  readFile: (path: string) => string;
  fetch: typeof fetch;
  now: () => number;
  out: (text: string) => void;
  err: (text: string) => void;
}

const HINT =
  "To make a running agent findable, set one of these (in .env or the environment) and " +
  "restart it:\n  AGENT_STATUS_FILE=/run/kozak/status.json   (a file the agent rewrites every 5 s)\n" +
  "  METRICS_LISTEN=127.0.0.1:9464              (also serves /metrics and /healthz)";

/** The URL `/status` is asked at: a wildcard listener on loopback. */
export function statusUrl(listenRaw: string): URL {
  const { hostname, port } = parseListen(listenRaw);
  const host = hostname === "0.0.0.0" ? "127.0.0.1" : hostname === "::" ? "[::1]" : hostname;
  return new URL(
    `http://${host.includes(":") && !host.startsWith("[") ? `[${host}]` : host}:${port}/status`,
  );
}

/** Runs the command; returns the exit code. */
export async function runStatus(args: string[], io: StatusIO): Promise<number> {
  if (args.includes("--help") || args.includes("-h")) {
    io.out(`usage: deno task status [--json]\n\nPrints the running agent's state.\n${HINT}`);
    return 0;
  }
  const bad = args.find((a) => a !== "--json");
  if (bad) {
    io.err(`unknown option ${JSON.stringify(bad)}; usage: deno task status [--json]`);
    return 2;
  }
  const tried: string[] = [];
  const show = (status: AgentStatus, source: string) => {
    io.out(
      args.includes("--json") ? JSON.stringify(status) : renderStatus(status, source, io.now()),
    );
    return 0;
  };
  const file = optional(io.env, "AGENT_STATUS_FILE");
  if (file) {
    const found = readStatusFile(file, io);
    if (found.status) return show(found.status, file);
    tried.push(`AGENT_STATUS_FILE=${file}: ${found.why}`);
  }
  const listen = optional(io.env, "METRICS_LISTEN");
  if (listen) {
    let url: URL;
    try {
      url = statusUrl(listen);
    } catch (error) {
      if (!(error instanceof ConfigValueError)) throw error;
      io.err(`config error: ${error.message}`);
      return 2;
    }
    const found = await fetchStatus(url, io);
    if (found.status) return show(found.status, url.href);
    tried.push(`METRICS_LISTEN=${listen}: ${found.why}`);
  }
  if (tried.length === 0) {
    io.err(`no running agent found: neither AGENT_STATUS_FILE nor METRICS_LISTEN is set.\n${HINT}`);
  } else {
    io.err(`no running agent found:\n${tried.map((t) => `  ${t}`).join("\n")}\n${HINT}`);
  }
  return 1;
}

function readStatusFile(path: string, io: StatusIO): { status?: AgentStatus; why?: string } {
  let text: string;
  try {
    text = io.readFile(path);
  } catch (error) {
    return {
      why: error instanceof Deno.errors.NotFound
        ? "the file does not exist (is the agent running?)"
        : `cannot read it: ${unreadableWhy(error)}`,
    };
  }
  const status = parseStatus(text);
  if (!status) return { why: "the file is not an agent status" };
  if (status.stopped) return { why: `the agent stopped ${ago(status.ts, io.now())}` };
  if (io.now() - Date.parse(status.ts) > MAX_STATUS_AGE_MS) {
    return { why: `written ${ago(status.ts, io.now())}: the agent has stopped or is stuck` };
  }
  return { status };
}

async function fetchStatus(
  url: URL,
  io: StatusIO,
): Promise<{ status?: AgentStatus; why?: string }> {
  try {
    const response = await io.fetch(url, { signal: AbortSignal.timeout(3_000) });
    const text = await response.text();
    if (!response.ok) return { why: `${url.href} answered HTTP ${response.status}` };
    const status = parseStatus(text);
    return status ? { status } : { why: `${url.href} did not answer with an agent status` };
  } catch (error) {
    if (error instanceof Deno.errors.NotCapable) {
      return {
        why: `deno task status may connect to loopback only; ask ${url.host} from the agent's host`,
      };
    }
    return { why: `nothing answers at ${url.href} (${(error as Error).message})` };
  }
}

if (import.meta.main) {
  const env = loadEnv({
    processEnv: (name) => Deno.env.get(name),
    readTextFile: (path) => readRegularFileSync(path),
    cwd: Deno.cwd(),
  });
  if (!env.ok) {
    console.error(`config error: ${env.variable}: ${env.message}`);
    Deno.exit(2);
  }
  Deno.exit(
    await runStatus(Deno.args, {
      env: env.read,
      readFile: (path) => Deno.readTextFileSync(path),
      fetch,
      now: Date.now,
      out: (text) => console.log(text),
      err: (text) => console.error(text),
    }),
  );
}
