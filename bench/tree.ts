/**
 * The unique memory of a process tree, whatever its shape: the root (the
 * `deno task` process), every descendant found by parent PID, and among them
 * the agent — the process whose command line holds `main.ts`. Whatever the
 * agent starts itself (a `systemctl`) counts as the agent's, not the tree's.
 *
 * @module
 */

import { descendants, processTable } from "../tests/support/process_tree.ts";
import { type RollupMemory, rollupMemory } from "./proc.ts";

/** One process of the tree with its memory. */
export interface TreeProcess extends RollupMemory {
  pid: number;
  args: string;
}

/** The tree split into the agent and the rest. */
export interface TreeMemory {
  agent: TreeProcess | undefined;
  /** The root and every descendant that is neither the agent nor below it. */
  others: TreeProcess[];
}

/** The agent among `procs`: the one running `main.ts`. */
export function isAgent(args: string): boolean {
  return /(^|[\s/])main\.ts(\s|$)/.test(args);
}

/** A short name for a process of the tree, for the verdict (`deno task start`, `launcher.ts`, `sh`). */
export function shortName(args: string): string {
  const words = args.split(/\s+/).filter((w) => w !== "");
  const script = words.find((w) => /\.(ts|js|sh)$/.test(w));
  if (script) return script.slice(script.lastIndexOf("/") + 1);
  const bin = (words[0] ?? "?").slice((words[0] ?? "").lastIndexOf("/") + 1);
  return words[1] === "task" ? `${bin} task ${words[2] ?? ""}`.trim() : bin;
}

/** Reads the memory of every process of the tree under (and including) `rootPid`. */
export async function treeMemory(rootPid: number): Promise<TreeMemory> {
  const table = await processTable();
  const root = table.find((p) => p.pid === rootPid);
  const below = await descendants(rootPid);
  // The deepest match (descendants come in breadth-first order): a supervisor whose own command
  // line names main.ts (`sh -c "… main.ts start"`) is above the agent, not the agent.
  const agentProc = below.filter((p) => isAgent(p.args)).pop();
  const underAgent = new Set(agentProc ? (await descendants(agentProc.pid)).map((p) => p.pid) : []);
  const read = async (p: { pid: number; args: string }): Promise<TreeProcess | undefined> => {
    try {
      return { pid: p.pid, args: p.args, ...await rollupMemory(p.pid) };
    } catch {
      return undefined; // ended between the listing and the reading
    }
  };
  const others: TreeProcess[] = [];
  for (const p of [...(root ? [root] : []), ...below]) {
    if (p === agentProc || underAgent.has(p.pid)) continue;
    const memory = await read(p);
    if (memory) others.push(memory);
  }
  return { agent: agentProc ? await read(agentProc) : undefined, others };
}
