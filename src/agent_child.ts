/**
 * The supervisor's side of the restart protocol (src/restart.ts): the agent
 * runs as a child with `KOZAK_SUPERVISED=1`; its stdout is collected (it is
 * empty but for a hand-over); when it exits with {@link RESTART_EXIT_CODE}
 * the next agent is started with flags computed again and the hand-over on
 * its stdin (`KOZAK_HANDOVER=stdin`).
 *
 * @module
 */

import { RESTART_EXIT_CODE } from "./restart.ts";

/** A running agent child. */
export interface AgentChild {
  child: Deno.ChildProcess;
  /** Resolves with the exit status and everything the child wrote to stdout. */
  done: Promise<{ status: Deno.CommandStatus; stdout: Uint8Array }>;
}

/** Starts `deno <args>` as a supervised agent, feeding it `handover` when given. */
export function spawnAgent(args: string[], handover?: Uint8Array): AgentChild {
  const child = new Deno.Command("deno", {
    args,
    env: { KOZAK_SUPERVISED: "1", ...(handover ? { KOZAK_HANDOVER: "stdin" } : {}) },
    stdin: handover ? "piped" : "inherit",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  if (handover) {
    const writer = child.stdin.getWriter();
    writer.write(handover).then(() => writer.close()).catch(() => {});
  }
  const stdout = collect(child.stdout);
  const done = Promise.all([child.status, stdout]).then(([status, bytes]) => {
    // Anything but a hand-over belongs on our stdout (the agent writes none today).
    if (status.code !== RESTART_EXIT_CODE && bytes.length > 0) Deno.stdout.writeSync(bytes);
    return { status, stdout: bytes };
  });
  return { child, done };
}

async function collect(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of stream) {
    chunks.push(chunk);
    total += chunk.length;
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}
