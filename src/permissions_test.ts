import assert from "node:assert/strict";
import { MODULES } from "../checks/mod.ts";
import { type AgentConfig, resolveConfig } from "./config.ts";
import {
  computePermissions,
  flagsProblem,
  MAX_ARG_BYTES,
  missingNeeds,
  netGrants,
  permissionFlags,
  PORTS_PER_HOST_GRANT,
} from "./permissions.ts";

function config(vars: Record<string, string>): AgentConfig {
  const result = resolveConfig((name) => vars[name], { modules: MODULES, hostname: () => "h" });
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  return result.config;
}

const TCP = { ENABLED_MODULES: "tcp", TCP_CHECKS: "127.0.0.1:22,[::1]:80" };

Deno.test("agent mode grants the monitoring server and each target, check mode only the targets", () => {
  const c = config({ ...TCP, MONITORING_URL: "ws://mon.internal:9000" });
  const agent = computePermissions(c, ["/e/.env"], "agent");
  const check = computePermissions(c, ["/e/.env"], "check");
  assert.deepEqual(agent.net, ["127.0.0.1:22", "[::1]:80", "mon.internal:9000"].sort());
  assert.deepEqual(check.net, ["127.0.0.1:22", "[::1]:80"]);
  assert.deepEqual(agent.read, ["/e/.env"]);
});

Deno.test("a status file is the agent's only write grant, and never in check mode", () => {
  const c = config({ ...TCP, AGENT_STATUS_FILE: "/run/kozak/status" });
  assert.deepEqual(computePermissions(c, [], "agent").write, ["/run/kozak/status"]);
  assert.deepEqual(computePermissions(c, [], "check").write, []);
  assert.deepEqual(computePermissions(config(TCP), [], "agent").write, []);
});

Deno.test("hostname access only when AGENT_ID is unset; systemctl only with the systemd module", () => {
  const named = config({ ...TCP, AGENT_ID: "web-1" });
  assert.deepEqual(computePermissions(named, [], "agent").sys, []);
  assert.deepEqual(computePermissions(config(TCP), [], "agent").sys, ["hostname"]);
  assert.deepEqual(computePermissions(config(TCP), [], "agent").run, []);
  const systemd = config({ ENABLED_MODULES: "systemd", SYSTEMD_SERVICES: "ssh" });
  assert.deepEqual(computePermissions(systemd, [], "agent").run, ["systemctl"]);
});

Deno.test("netGrants keeps exact host:port entries up to the per-host limit", () => {
  const ports = Array.from({ length: PORTS_PER_HOST_GRANT }, (_, i) => `db:${1000 + i}`);
  assert.deepEqual(netGrants([...ports, "web:80"]), [...ports, "web:80"].sort());
});

Deno.test("netGrants grants a host with more ports than the limit as one entry", () => {
  const ports = Array.from({ length: PORTS_PER_HOST_GRANT + 1 }, (_, i) => `db:${1000 + i}`);
  assert.deepEqual(netGrants([...ports, "web:80", "[::1]:1"]), ["[::1]:1", "db", "web:80"]);
  const v6 = Array.from({ length: PORTS_PER_HOST_GRANT + 1 }, (_, i) => `[::1]:${1 + i}`);
  assert.deepEqual(netGrants(v6), ["[::1]"]);
});

Deno.test("10,000 ports of one host fit one argument; 10,000 hosts are a clear problem", () => {
  const sameHost = Array.from({ length: 10_000 }, (_, i) => `127.0.0.1:${1 + i}`);
  const flags = permissionFlags({
    net: netGrants(sameHost),
    read: [],
    write: [],
    env: [],
    run: [],
    sys: [],
  });
  assert.deepEqual(flags, ["--allow-net=127.0.0.1"]);
  assert.equal(flagsProblem(flags), undefined);
  const manyHosts = Array.from({ length: 10_000 }, (_, i) => `host-${i}.internal:443`);
  const wide = permissionFlags({
    net: netGrants(manyHosts),
    read: [],
    write: [],
    env: [],
    run: [],
    sys: [],
  });
  assert.ok(wide[0].length > MAX_ARG_BYTES);
  assert.match(
    flagsProblem(wide) ?? "",
    /--allow-net would hold 10000 entries .* more than Linux allows/,
  );
});

Deno.test("missingNeeds lists what the permission query does not grant", () => {
  const granted = new Set(["net:a:1", "run:systemctl"]);
  const query = (d: Deno.PermissionDescriptor): Deno.PermissionState => {
    const key = d.name === "net"
      ? `net:${d.host}`
      : d.name === "run"
      ? `run:${d.command}`
      : `read:${(d as { path?: string }).path}`;
    return granted.has(key) ? "granted" : "prompt";
  };
  assert.deepEqual(
    missingNeeds({ net: ["a:1", "b:2"], run: ["systemctl"], read: ["/k"] }, query),
    ["net b:2", "read /k"],
  );
});

Deno.test("missingNeeds asks a host granted whole once for all its ports, and each port otherwise", () => {
  const asked: string[] = [];
  const grantedHosts = new Set(["127.0.0.1", "[::1]:80"]);
  const query = (d: Deno.PermissionDescriptor): Deno.PermissionState => {
    const host = (d as Deno.NetPermissionDescriptor).host ?? "";
    asked.push(host);
    return grantedHosts.has(host) ? "granted" : "prompt";
  };
  const ports = Array.from({ length: 100 }, (_, i) => `127.0.0.1:${1000 + i}`);
  assert.deepEqual(missingNeeds({ net: ports }, query), []);
  assert.deepEqual(new Set(asked), new Set(["127.0.0.1"]), "never port by port");
  asked.length = 0;
  assert.deepEqual(missingNeeds({ net: ["[::1]:80", "[::1]:81", "example.com"] }, query), [
    "net [::1]:81",
    "net example.com",
  ]);
  assert.deepEqual(asked, ["[::1]", "[::1]:80", "[::1]", "[::1]:81", "example.com"]);
});

Deno.test("missingNeeds with Deno's real permissions: a host-wide grant covers every port", async () => {
  // A child with --allow-net=127.0.0.1 only (never a port): the query by host answers.
  const dir = await Deno.makeTempDir({ prefix: "kozak-test-" });
  try {
    const script = `${dir}/query.ts`;
    await Deno.writeTextFile(
      script,
      `import { missingNeeds } from "${new URL("./permissions.ts", import.meta.url).href}";
console.log(JSON.stringify(missingNeeds({ net: ["127.0.0.1:1", "127.0.0.1:65535", "127.0.0.2:1"] })));`,
    );
    const out = await new Deno.Command("deno", {
      args: ["run", "--no-prompt", "--allow-net=127.0.0.1", `--allow-read=${dir}`, script],
      stdin: "null",
    }).output();
    assert.ok(out.success, new TextDecoder().decode(out.stderr));
    assert.deepEqual(JSON.parse(new TextDecoder().decode(out.stdout)), ["net 127.0.0.2:1"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
