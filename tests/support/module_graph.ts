/**
 * What a module file loads before anything runs: its static import graph as
 * `deno info --json` reports it, without following dynamic `import()`s. A
 * check module's `mod.ts` must load no driver (`npm:`) and no `node:` module
 * this way; its runner comes through `load()`.
 *
 * @module
 */

import { ROOT } from "./processes.ts";

interface InfoDependency {
  isDynamic?: boolean;
  code?: { specifier?: string };
  type?: { specifier?: string };
}

interface Info {
  roots: string[];
  redirects?: Record<string, string>;
  modules: { specifier: string; dependencies?: InfoDependency[] }[];
}

/**
 * Every module `path` (relative to the repository) imports statically, itself
 * included. With `codeOnly`, type-only imports are not followed: what is left
 * is what the runtime loads.
 */
export async function staticImports(path: string, codeOnly = false): Promise<string[]> {
  const output = await new Deno.Command("deno", {
    args: ["info", "--json", path],
    cwd: ROOT,
    env: { NO_COLOR: "1" },
    stdin: "null",
  }).output();
  if (!output.success) throw new Error(new TextDecoder().decode(output.stderr));
  const info: Info = JSON.parse(new TextDecoder().decode(output.stdout));
  const byName = new Map(info.modules.map((m) => [m.specifier, m]));
  const seen = new Set<string>();
  const pending = [...info.roots];
  while (pending.length > 0) {
    const raw = pending.pop()!;
    const specifier = info.redirects?.[raw] ?? raw;
    if (seen.has(specifier)) continue;
    seen.add(specifier);
    for (const dependency of byName.get(specifier)?.dependencies ?? []) {
      if (dependency.isDynamic) continue;
      const targets = codeOnly
        ? [dependency.code?.specifier]
        : [dependency.code?.specifier, dependency.type?.specifier];
      for (const next of targets) {
        if (next) pending.push(next);
      }
    }
  }
  return [...seen].map((s) =>
    s.startsWith(`file://${ROOT}`) ? s.slice(`file://${ROOT}`.length) : s
  );
}

/** The `npm:` and `node:` modules among {@link staticImports}. */
export async function staticDrivers(path: string): Promise<string[]> {
  return (await staticImports(path)).filter((s) => /^(npm|node):/.test(s));
}
