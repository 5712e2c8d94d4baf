/**
 * Child processes in tests: collecting their output, and stopping them by
 * PID (SIGTERM, then SIGKILL after a grace period).
 *
 * @module
 */

/** Appends a stream's lines to `into` as they arrive; resolves at its end. */
export async function collectLines(
  stream: ReadableStream<Uint8Array>,
  into: string[],
): Promise<void> {
  let rest = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    rest += chunk;
    const parts = rest.split("\n");
    rest = parts.pop() ?? "";
    into.push(...parts);
  }
  if (rest) into.push(rest);
}

/** Sends `signal` (default SIGTERM) to the child, SIGKILL after `graceMs`, and waits for its exit. */
export async function stopChild(
  child: Deno.ChildProcess,
  graceMs: number,
  signal: Deno.Signal = "SIGTERM",
): Promise<Deno.CommandStatus> {
  const kill = (s: Deno.Signal) => {
    try {
      child.kill(s);
    } catch { /* already exited */ }
  };
  kill(signal);
  const timer = setTimeout(() => kill("SIGKILL"), graceMs);
  try {
    return await child.status;
  } finally {
    clearTimeout(timer);
  }
}
