/**
 * Dependencies point one way: checks know only the check interface and small
 * helpers; the transport knows nothing of checks; only main.ts and the
 * launcher wire things together.
 */

import assert from "node:assert/strict";
import { staticDrivers, staticImports } from "./support/module_graph.ts";
import { ROOT } from "./support/processes.ts";

async function importsOf(path: string): Promise<string[]> {
  const text = await Deno.readTextFile(ROOT + path);
  return [...text.matchAll(/^\s*(?:import|export)\b[^"']*?from\s+["']([^"']+)["']/gm)].map((m) =>
    m[1]
  );
}

async function sourceFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const entry of Deno.readDir(ROOT + dir)) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory) out.push(...await sourceFiles(path));
    else if (entry.name.endsWith(".ts") && !entry.name.endsWith("_test.ts")) out.push(path);
  }
  return out;
}

const CHECK_HELPERS = ["src/check.ts", "src/config_values.ts"];
/** The helpers every module shares (connect, deadlines, fetch errors …). */
const COMMON_HELPERS = "checks/common/";

Deno.test("check modules import only the check interface and its helpers", async () => {
  for (const file of await sourceFiles("checks")) {
    if (file === "checks/mod.ts") continue;
    for (const spec of await importsOf(file)) {
      if (!spec.startsWith(".")) continue; // npm: and node: packages are the module's own business
      const resolved = new URL(spec, `file://${ROOT}${file}`).pathname.slice(ROOT.length);
      const sameModule = resolved.startsWith(file.slice(0, file.lastIndexOf("/") + 1));
      const allowed = sameModule || CHECK_HELPERS.includes(resolved) ||
        resolved.startsWith(COMMON_HELPERS);
      assert.ok(allowed, `${file} imports ${resolved}`);
    }
  }
});

Deno.test("every module's mod.ts, and the launcher, load no node: or npm: module statically", async () => {
  const { MODULES } = await import("../checks/mod.ts");
  for (const name of MODULES.keys()) {
    assert.deepEqual(await staticDrivers(`checks/${name}/mod.ts`), [], name);
  }
  assert.deepEqual(await staticDrivers("checks/mod.ts"), [], "the registry");
});

Deno.test("the transport, queue and scheduler know nothing of checks or of each other's internals", async () => {
  const forbidden: Record<string, RegExp> = {
    "src/transport.ts": /checks\/|scheduler|config\.ts|instances/,
    "src/queue.ts": /checks\/|scheduler|transport|protocol/,
    "src/scheduler.ts": /checks\/|transport|queue|config\.ts/,
  };
  for (const [file, pattern] of Object.entries(forbidden)) {
    for (const spec of await importsOf(file)) {
      assert.doesNotMatch(spec, pattern, `${file} imports ${spec}`);
    }
  }
});

Deno.test("no task in deno.json grants everything or unrestricted network", async () => {
  const { tasks } = JSON.parse(await Deno.readTextFile(ROOT + "deno.json"));
  for (const [name, command] of Object.entries(tasks as Record<string, string>)) {
    const words = command.split(/\s+/);
    for (const bad of ["-A", "--allow-all", "--allow-net", "-N"]) {
      assert.ok(!words.includes(bad), `task ${name} uses ${bad}`);
    }
  }
});

Deno.test("the schema's reason and module lists match the code's", async () => {
  const { REASONS } = await import("../src/check.ts");
  const { MODULES } = await import("../checks/mod.ts");
  const schema = JSON.parse(await Deno.readTextFile(ROOT + "schema/event.schema.json"));
  assert.deepEqual([...schema.definitions.reason.enum].sort(), [...REASONS].sort());
  const modules: string[] = schema.definitions.module.enum;
  for (const name of MODULES.keys()) {
    assert.ok(modules.includes(name), `${name} missing from the schema`);
  }
});

Deno.test("PROTOCOL.md names every phase a check can report", async () => {
  const { PHASES } = await import("../src/check.ts");
  const protocol = await Deno.readTextFile(ROOT + "PROTOCOL.md");
  const missing = PHASES.filter((p) => !protocol.includes(`\`${p}\``));
  assert.deepEqual(missing, []);
});

Deno.test("the metrics part loads its protobuf and snappy libraries only when remote write is on", async () => {
  const drivers = await staticDrivers("src/metrics/agent_metrics.ts");
  assert.deepEqual(drivers.filter((d) => /pbf|snappy/.test(d)), [], drivers.join(", "));
  const encoder = await staticDrivers("src/metrics/remote_write_encode.ts");
  assert.ok(encoder.some((d) => d.includes("pbf")) && encoder.some((d) => d.includes("snappy")));
});

Deno.test("the metrics part knows the agent's parts only through their read-only views", async () => {
  for (const file of await sourceFiles("src/metrics")) {
    for (const spec of await importsOf(file)) {
      assert.doesNotMatch(
        spec,
        /checks\/|transport|scheduler|pipeline|agent\.ts/,
        `${file} imports ${spec}`,
      );
    }
  }
});

Deno.test("the agent's start path loads no driver and no optional part until it is configured", async () => {
  const loaded = await staticImports("main.ts", true);
  assert.deepEqual(loaded.filter((s) => /^(npm|node):/.test(s)), []);
  const optional = [
    "src/checks_file.ts", // AGENT_CHECKS_FILE (and the YAML library)
    "src/spool/spool.ts", // QUEUE_SPOOL_DIR
    "src/tls_websocket.ts", // MONITORING_CA_FILE, MONITORING_CLIENT_*
    "src/metrics/server.ts", // METRICS_LISTEN
    "src/metrics/remote_write.ts", // REMOTE_WRITE_URL
    "src/check_command.ts", // deno task check
  ];
  assert.deepEqual(optional.filter((m) => loaded.includes(m)), []);
  for (const name of ["ssh", "postgres", "mysql", "nginx", "systemd", "tcp", "http"]) {
    assert.ok(
      !loaded.some((m) =>
        m.startsWith(`checks/${name}/`) && !m.endsWith("mod.ts") &&
        !/\/(config|pins|unit_name|expect)\.ts$/.test(m)
      ),
      `${name}: only its spec and options load`,
    );
  }
});
