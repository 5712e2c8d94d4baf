/**
 * Readings of /proc for the benchmark: peak and current resident memory
 * (`status`), unique memory (`smaps_rollup`) and CPU time (`stat`) of a
 * process by PID. Deno lets a program read /proc only with `--allow-all`, so
 * the text comes from `cat` (one short-lived process per reading); the
 * parsers are pure and tested on captured text (proc_test.ts).
 *
 * @module
 */

/** Memory figures from /proc/PID/status, in KiB. */
export interface StatusMemory {
  /** VmHWM: the peak resident set since the process started. */
  hwmKiB: number;
  /** VmRSS: the resident set now. */
  rssKiB: number;
}

/** Unique and resident memory from /proc/PID/smaps_rollup, in KiB. */
export interface RollupMemory {
  /** Private_Clean + Private_Dirty: what ending this process would give back (USS). */
  ussKiB: number;
  rssKiB: number;
  pssKiB: number;
}

/** CPU time from /proc/PID/stat, in clock ticks (see {@link clockTicksPerSecond}). */
export interface CpuTicks {
  utime: number;
  stime: number;
}

function kibField(text: string, name: string): number {
  const m = new RegExp(`^${name}:\\s+(\\d+) kB$`, "m").exec(text);
  if (!m) throw new Error(`no ${name} line in ${JSON.stringify(text.slice(0, 120))}`);
  return Number(m[1]);
}

/** Parses the text of /proc/PID/status. */
export function parseStatus(text: string): StatusMemory {
  return { hwmKiB: kibField(text, "VmHWM"), rssKiB: kibField(text, "VmRSS") };
}

/** Parses the text of /proc/PID/smaps_rollup. */
export function parseSmapsRollup(text: string): RollupMemory {
  return {
    ussKiB: kibField(text, "Private_Clean") + kibField(text, "Private_Dirty"),
    rssKiB: kibField(text, "Rss"),
    pssKiB: kibField(text, "Pss"),
  };
}

/**
 * Parses the text of /proc/PID/stat. The command name (field 2) is in
 * parentheses and may hold spaces and parentheses itself, so the fields are
 * counted from the last `)`.
 */
export function parseStat(text: string): CpuTicks {
  const close = text.lastIndexOf(")");
  if (close < 0) throw new Error(`not a stat line: ${JSON.stringify(text.slice(0, 80))}`);
  // After ")": field 3 (state) first; utime is field 14, stime field 15.
  const fields = text.slice(close + 2).trim().split(/\s+/);
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isSafeInteger(utime) || !Number.isSafeInteger(stime)) {
    throw new Error(`no utime/stime in ${JSON.stringify(text.slice(0, 80))}`);
  }
  return { utime, stime };
}

/** The text of /proc/PID/<file>, read with `cat`; throws when the process is gone. */
export async function readProc(pid: number, file: "status" | "smaps_rollup" | "stat") {
  const out = await new Deno.Command("cat", {
    args: [`/proc/${pid}/${file}`],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(`cat /proc/${pid}/${file}: ${new TextDecoder().decode(out.stderr).trim()}`);
  }
  return new TextDecoder().decode(out.stdout);
}

/** VmHWM and VmRSS of a running process. */
export async function statusMemory(pid: number): Promise<StatusMemory> {
  return parseStatus(await readProc(pid, "status"));
}

/** USS, RSS and PSS of a running process. */
export async function rollupMemory(pid: number): Promise<RollupMemory> {
  return parseSmapsRollup(await readProc(pid, "smaps_rollup"));
}

/** utime and stime of a running process. */
export async function cpuTicks(pid: number): Promise<CpuTicks> {
  return parseStat(await readProc(pid, "stat"));
}

/** `getconf CLK_TCK` (100 on Linux unless someone built it otherwise). */
export async function clockTicksPerSecond(): Promise<number> {
  try {
    const out = await new Deno.Command("getconf", { args: ["CLK_TCK"], stderr: "null" }).output();
    const ticks = Number(new TextDecoder().decode(out.stdout).trim());
    return out.success && ticks > 0 ? ticks : 100;
  } catch {
    return 100;
  }
}
