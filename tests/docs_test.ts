/**
 * Documentation held to the code: each module's options table is the one its
 * declarations make (both the variable and the checks-file key).
 */

import assert from "node:assert/strict";
import { MODULES } from "../checks/mod.ts";
import { BEGIN, END, normalizeTable, optionsTable } from "../src/options_doc.ts";
import { ROOT } from "./support/processes.ts";

Deno.test("each module's README holds the options table its declarations make (deno task docs)", async () => {
  for (const module of MODULES.values()) {
    const readme = await Deno.readTextFile(`${ROOT}checks/${module.name}/README.md`);
    const begin = readme.indexOf(BEGIN);
    const end = readme.indexOf(END);
    assert.ok(begin >= 0 && end > begin, `${module.name}: no generated options table`);
    const written = readme.slice(begin + BEGIN.length, end).trim();
    assert.equal(
      normalizeTable(written),
      normalizeTable(optionsTable(module)),
      `${module.name}: run deno task docs`,
    );
    for (const option of module.options) {
      assert.ok(written.includes(`(\`${option.name}\`)`), `${module.name}: ${option.name}`);
    }
  }
});

Deno.test("examples/checks.yaml resolves: every instance valid once its secret files exist", async () => {
  const { resolveConfig } = await import("../src/config.ts");
  const { parseChecksFile } = await import("../src/checks_file.ts");
  const path = `${ROOT}examples/checks.yaml`;
  const text = await Deno.readTextFile(path);
  const result = resolveConfig(
    (name) => ({ AGENT_ID: "web-1", AGENT_CHECKS_FILE: path } as Record<string, string>)[name],
    {
      modules: MODULES,
      hostname: () => "h",
      parseChecksFile,
      readFile: (p) => (p === path ? text : p.startsWith("/run/secrets/") ? "secret\n" : ""),
    },
  );
  assert.ok(result.ok, JSON.stringify(!result.ok && result.problems));
  const broken = result.config.checks.filter((c) => !c.ok);
  assert.deepEqual(broken.map((c) => !c.ok && c.error), []);
  const instances = new Set(result.config.checks.map((c) => c.module.name));
  assert.deepEqual([...instances].sort(), [...MODULES.keys()].sort(), "every module is shown");
});
