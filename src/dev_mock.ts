/**
 * The mock monitoring server as `deno task dev` runs it: started through its
 * own task (so its flags live in one place, deno.json), its output relayed to
 * ours, and its start confirmed before the agent starts — an agent talking to
 * whatever else holds the port would show nothing.
 *
 * @module
 */

import { urlPort } from "./config_agent.ts";
import { say, type Signals, stopWithin } from "./supervise.ts";

/** A listening mock. */
export interface DevMock {
  /** Its WebSocket URL, as it printed it (`ws://127.0.0.1:8765`). */
  url: URL;
  /** Resolves when the mock process ends. */
  status: Promise<Deno.CommandStatus>;
  /** Stops it (SIGTERM, SIGKILL after 1.5 s). */
  stop(): Promise<void>;
}

const LISTENING = "mock monitoring listening on ";

/** How long the mock may take to listen (a first run may compile it). */
const START_TIMEOUT_MS = 60_000;

/**
 * Starts the mock and waits until it listens. When it ends first (its port
 * is taken, a bad MOCK_* value), does not listen in time, or a stop signal
 * arrives, it is stopped and the reason is returned instead.
 */
export async function startDevMock(
  root: string,
  signals: Signals,
): Promise<{ ok: true; mock: DevMock } | { ok: false; code: number }> {
  const child = new Deno.Command("deno", {
    args: ["task", "--quiet", "--cwd", root, "mock"],
    // Its lines reach the terminal through our pipe: let it colour them as if it wrote there.
    env: Deno.stdout.isTerminal() ? { MOCK_COLOR: "always" } : {},
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let portTaken = false;
  const stderrRead = relayLines(child.stderr, Deno.stderr, (line) => {
    portTaken ||= /AddrInUse|address already in use/i.test(line);
  }).catch(() => {});
  const listening = Promise.withResolvers<URL | undefined>();
  relayLines(child.stdout, Deno.stdout, (line) => {
    const at = line.indexOf(LISTENING);
    if (at >= 0) listening.resolve(new URL(line.slice(at + LISTENING.length).trim()));
  }).catch(() => {}).finally(() => listening.resolve(undefined));
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = new Promise<"timeout">((r) =>
    timer = setTimeout(() => r("timeout"), START_TIMEOUT_MS)
  );
  const first = await Promise.race([listening.promise, signals.stop, timedOut]);
  clearTimeout(timer);
  const stop = async () => void await stopWithin(child, 1_500, "SIGTERM");
  if (first instanceof URL) return { ok: true, mock: { url: first, status: child.status, stop } };
  if (first === undefined) {
    const status = await child.status;
    await stderrRead;
    const port = Deno.env.get("MOCK_PORT")?.trim() || "8765";
    say(
      portTaken
        ? `port ${port} is taken by another program, so the mock monitoring server cannot ` +
          `listen and the agent is not started (it would talk to that program). Stop it, or set ` +
          `MOCK_PORT and MONITORING_URL to a free port.`
        : `the mock monitoring server did not start (exit code ${status.code}), so the agent ` +
          `is not started either.`,
    );
    return { ok: false, code: 1 };
  }
  // A stop signal during start-up is a normal stop (exit 0); not listening in time is a failure.
  if (first === "timeout") say(`the mock monitoring server did not listen within 60 s`);
  await stop();
  return { ok: false, code: first === "timeout" ? 1 : 0 };
}

/** The line `deno task dev` prints once the mock listens, and a warning when the agent sends elsewhere. */
export function devBanner(mockUrl: URL, monitoringUrl: URL): string[] {
  const wildcard = ["0.0.0.0", "[::]"].includes(mockUrl.hostname);
  const page = `http://${wildcard ? "127.0.0.1:" + urlPort(mockUrl) : mockUrl.host}/`;
  const lines = [`deno task dev: mock monitoring page at ${page} (events print below)`];
  const loopback = ["localhost", "127.0.0.1", "[::1]"];
  const sameHost = loopback.includes(monitoringUrl.hostname) &&
    (wildcard || loopback.includes(mockUrl.hostname));
  if (!sameHost || urlPort(monitoringUrl) !== urlPort(mockUrl)) {
    lines.push(
      `deno task dev: MONITORING_URL is ${monitoringUrl.href}, so the agent's events do not go to ` +
        `this mock`,
    );
  }
  return lines;
}

/** Copies a stream to `out` and hands every complete line to `onLine`. */
async function relayLines(
  stream: ReadableStream<Uint8Array>,
  out: { write(bytes: Uint8Array): Promise<number> },
  onLine: (line: string) => void,
): Promise<void> {
  const encoder = new TextEncoder();
  let rest = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    const bytes = encoder.encode(chunk);
    for (let done = 0; done < bytes.length;) done += await out.write(bytes.subarray(done));
    rest += chunk;
    const lines = rest.split("\n");
    rest = lines.pop() ?? "";
    lines.forEach(onLine);
  }
}
