/**
 * Runs `systemctl` once, without a shell, and stops it when the check's
 * signal fires.
 *
 * @module
 */

import { untilAborted } from "../common/deadline.ts";

/** What became of one systemctl run. */
export type SystemctlRun =
  /** It ran to its end (or was killed by someone else). */
  | { kind: "exited"; code: number; signal: string | null; stdout: string; stderr: string }
  /** The check's signal fired first; the process was killed and reaped. */
  | { kind: "aborted" }
  /** No `systemctl` on PATH. */
  | { kind: "missing"; message: string }
  /** The agent may not run it (no `--allow-run=systemctl`). */
  | { kind: "denied"; message: string }
  /** It printed more than {@link MAX_OUTPUT_BYTES}; it was killed. */
  | { kind: "too_much"; bytes: number };

/** More output than this is not an answer to a few properties of a few units. */
export const MAX_OUTPUT_BYTES = 1024 * 1024;

/**
 * Runs `systemctl ARGS…` with `TZ=UTC` (so that timestamps come in UTC) and
 * collects its output. The signal kills the process (SIGKILL: a hung
 * systemctl gets no grace) and stops reading its pipes at once, so nothing is
 * left open even if a child of it still held them; the answer does not wait
 * for the kill to take (a process stuck in the kernel dies only when it
 * leaves it).
 */
export async function runSystemctl(args: string[], signal: AbortSignal): Promise<SystemctlRun> {
  if (signal.aborted) return { kind: "aborted" };
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command("systemctl", {
      args,
      env: { TZ: "UTC" },
      signal,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      return { kind: "missing", message: (error as Error).message };
    }
    if (error instanceof Deno.errors.NotCapable || error instanceof Deno.errors.PermissionDenied) {
      return { kind: "denied", message: (error as Error).message };
    }
    if (signal.aborted) return { kind: "aborted" };
    throw error;
  }

  const stdoutReader = child.stdout.getReader();
  const stderrReader = child.stderr.getReader();
  let overflow = 0;
  const stop = () => {
    try {
      child.kill("SIGKILL");
    } catch { /* already exited */ }
    stdoutReader.cancel().catch(() => {});
    stderrReader.cancel().catch(() => {});
  };
  const total = { bytes: 0 };
  const onOverflow = (bytes: number) => {
    overflow = bytes;
    stop();
  };
  signal.addEventListener("abort", stop, { once: true });
  try {
    const [stdout, stderr, status] = await untilAborted(
      Promise.all([
        readAll(stdoutReader, total, onOverflow),
        readAll(stderrReader, total, onOverflow),
        child.status,
      ]),
      signal,
    );
    if (overflow > 0) return { kind: "too_much", bytes: overflow };
    return { kind: "exited", code: status.code, signal: status.signal, stdout, stderr };
  } catch (error) {
    if (signal.aborted) return { kind: "aborted" };
    throw error;
  } finally {
    signal.removeEventListener("abort", stop);
  }
}

/** Reads a pipe to its end (or until cancelled), counting into a shared limit. */
async function readAll(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  total: { bytes: number },
  onOverflow: (bytes: number) => void,
): Promise<string> {
  const decoder = new TextDecoder();
  let text = "";
  try {
    while (true) {
      const { done, value } = await reader.read();
      if (done) break;
      total.bytes += value.byteLength;
      if (total.bytes > MAX_OUTPUT_BYTES) {
        onOverflow(total.bytes);
        break;
      }
      text += decoder.decode(value, { stream: true });
    }
  } catch {
    // A cancelled or broken pipe ends the output; the exit status tells the rest.
  } finally {
    reader.releaseLock();
  }
  return text + decoder.decode();
}
