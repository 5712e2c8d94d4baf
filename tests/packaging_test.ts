/**
 * Holds the packaging files to the code. There is no Docker engine and no
 * systemd PID 1 on these machines, so the files are checked, not run:
 * compose.yaml against the configuration schema, the Dockerfile and the
 * compile task against the permission computation, the systemd unit with
 * `systemd-analyze verify`.
 */

import { AGENT_V8_FLAGS } from "../src/launcher_flags.ts";
import assert from "node:assert/strict";
import { parse as parseYaml } from "yaml";
import { MODULES } from "../checks/mod.ts";
import { resolveConfig } from "../src/config.ts";
import { AGENT_ENV, urlPort } from "../src/config_agent.ts";
import { moduleEnvNames } from "../src/config_modules.ts";
import { computePermissions, permissionFlags } from "../src/permissions.ts";
import { skipUnlessAvailable } from "./support/binaries.ts";
import { envFile, ROOT, spawnDeno, taskArgs } from "./support/processes.ts";

interface Service {
  image?: string;
  build?: unknown;
  command?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
  profiles?: string[];
  volumes?: string[];
}

const compose = parseYaml(await Deno.readTextFile(ROOT + "compose.yaml")) as {
  services: Record<string, Service>;
};
const agent = compose.services.agent;
const agentEnv = agent.environment ?? {};

/** The port each lab service listens on, read from its own configuration where it has one. */
async function listeningPorts(): Promise<Record<string, number>> {
  const nginxConf = await Deno.readTextFile(ROOT + "deploy/compose/nginx.conf");
  return {
    "mock-monitoring": Number(compose.services["mock-monitoring"].environment?.MOCK_PORT),
    nginx: Number(/^\s*listen\s+(\d+);/m.exec(nginxConf)?.[1]),
    postgres: 5432, // the postgres image's default
    mysql: 3306, // the mariadb image's default
    sshd: 2222, // linuxserver/openssh-server listens on 2222
  };
}

Deno.test("compose: every variable the agent service sets is one the configuration reads", () => {
  const known = new Set<string>(AGENT_ENV);
  for (const module of MODULES.values()) moduleEnvNames(module).forEach((n) => known.add(n));
  for (const name of Object.keys(agentEnv)) {
    assert.ok(known.has(name), `compose sets unknown ${name}`);
  }
  assert.deepEqual(compose.services["agent-dev"].environment, agentEnv);
});

Deno.test("compose: the agent's configuration resolves with every module enabled and no config error", () => {
  const result = resolveConfig((name) => agentEnv[name], {
    modules: MODULES,
    hostname: () => "lab",
  });
  assert.ok(result.ok, JSON.stringify(!result.ok && result.problems));
  const config = result.config;
  assert.deepEqual([...config.enabledModules].sort(), [
    "mysql",
    "nginx",
    "postgres",
    "ssh",
    "systemd",
    "tcp",
  ]);
  for (const module of config.enabledModules) {
    assert.ok(config.checks.some((c) => c.module.name === module), `no instance of ${module}`);
  }
  for (const check of config.checks) {
    assert.ok(check.ok, `${check.key}: ${!check.ok && check.error}`);
  }
});

Deno.test("compose: every host:port the agent dials is a lab service on the port it listens on", async () => {
  const ports = await listeningPorts();
  const result = resolveConfig((name) => agentEnv[name], {
    modules: MODULES,
    hostname: () => "lab",
  });
  assert.ok(result.ok);
  const net = computePermissions(result.config, [], "agent").net;
  assert.deepEqual(net, [
    "mock-monitoring:8765",
    "mysql:3306",
    "nginx:8080",
    "postgres:5432",
    "sshd:2222",
  ]);
  for (const hostPort of net) {
    const [host, port] = hostPort.split(":");
    assert.ok(host in compose.services, `${hostPort}: no service ${host}`);
    assert.equal(Number(port), ports[host], `${hostPort}: ${host} listens on ${ports[host]}`);
  }
  const monitoring = new URL(agentEnv.MONITORING_URL);
  assert.equal(urlPort(monitoring), ports["mock-monitoring"]);
  assert.ok(
    compose.services["mock-monitoring"].ports?.includes(
      `${ports["mock-monitoring"]}:${ports["mock-monitoring"]}`,
    ),
  );
  assert.equal(
    agentEnv.MONITORING_TOKEN,
    compose.services["mock-monitoring"].environment?.MOCK_TOKEN,
  );
});

Deno.test("compose: the agent starts after every target is healthy, and every target has a health check", () => {
  for (const service of ["agent", "agent-dev"]) {
    const deps = compose.services[service].depends_on ?? {};
    for (const target of ["mock-monitoring", "postgres", "mysql", "nginx", "sshd"]) {
      assert.equal(deps[target]?.condition, "service_healthy", `${service} → ${target}`);
      assert.ok(compose.services[target].healthcheck?.test?.length, `${target} has no healthcheck`);
    }
  }
  assert.deepEqual(compose.services["agent-dev"].profiles, ["dev"]);
  assert.deepEqual(compose.services["agent-dev"].command, ["deno", "task", "start", "--watch"]);
  assert.ok(compose.services["agent-dev"].volumes?.some((v) => v.startsWith("./src:")));
});

Deno.test("compose: the lab's credentials agree between the agent and the services", () => {
  const pg = compose.services.postgres.environment ?? {};
  assert.equal(agentEnv.POSTGRES_USER, pg.POSTGRES_USER);
  assert.equal(agentEnv.POSTGRES_PASSWORD, pg.POSTGRES_PASSWORD);
  assert.equal(agentEnv.POSTGRES_DB, pg.POSTGRES_DB);
  const my = compose.services.mysql.environment ?? {};
  assert.equal(agentEnv.MYSQL_USER, my.MARIADB_USER);
  assert.equal(agentEnv.MYSQL_PASSWORD, my.MARIADB_PASSWORD);
  assert.equal(agentEnv.MYSQL_DATABASE, my.MARIADB_DATABASE);
  const ssh = compose.services.sshd.environment ?? {};
  assert.equal(agentEnv.SSH_USER, ssh.USER_NAME);
  assert.equal(agentEnv.SSH_PASSWORD, ssh.USER_PASSWORD);
});

Deno.test("Dockerfile: multi-stage on the official Deno image, frozen deps, non-root, the launcher as start command", async () => {
  const text = await Deno.readTextFile(ROOT + "Dockerfile");
  const ciDeno = /DENO_VERSION=([\d.]+)/.exec(await Deno.readTextFile(ROOT + ".ci/run"))?.[1];
  assert.equal(/^ARG DENO_VERSION=([\d.]+)$/m.exec(text)?.[1], ciDeno, "same Deno as CI");
  assert.equal([...text.matchAll(/^FROM denoland\/deno:\$\{DENO_VERSION\}/gm)].length, 2);
  assert.match(text, /deno install --frozen/);
  assert.match(text, /^USER deno$/m);
  assert.match(text, /^CMD \["deno", "task", "start"\]$/m);
  const words = text.split(/[\s",\[\]]+/);
  for (
    const bad of [
      "-A",
      "--allow-all",
      "--allow-net",
      "--allow-read",
      "--allow-run",
      "--allow-write",
    ]
  ) {
    assert.ok(!words.includes(bad), `Dockerfile uses ${bad} unrestricted`);
  }
  const health = /^HEALTHCHECK .*\n?.*CMD (\[.*\])$/m.exec(text.replace(/\\\n\s*/g, ""))?.[1];
  assert.ok(health, "HEALTHCHECK with an exec-form CMD");
  const healthArgs = JSON.parse(health) as string[];
  assert.ok(healthArgs.includes("healthcheck.ts"));
  assert.ok(healthArgs.includes("--allow-read=/tmp/kozak-agent.status"));
  assert.match(text, /AGENT_STATUS_FILE=\/tmp\/kozak-agent.status/);
});

Deno.test("Dockerfile: the start command is the start task, whose flags come from the permission computation", async () => {
  const { tasks } = JSON.parse(await Deno.readTextFile(ROOT + "deno.json"));
  assert.equal(tasks.start, "sh bin/kozak-supervise start");
  // The supervisor computes the flags with a Deno that may only read files and env.
  const supervisor = await Deno.readTextFile(ROOT + "bin/kozak-supervise");
  const denoRuns = [...supervisor.matchAll(/^\s*(?:exec |KOZAK_\S+ )*deno run (.*)$/gm)].map((m) =>
    m[1]
  );
  assert.ok(denoRuns.length >= 1, "the supervisor runs deno");
  for (const line of denoRuns) assert.doesNotMatch(line, /--allow-net|--allow-all|-A\b/);
  assert.match(supervisor, /deno run --allow-env --allow-read "\$launcher" plan start/);
  assert.match(await Deno.readTextFile(ROOT + "Dockerfile"), /^COPY bin\/ bin\/$/m);
  // What the container's launcher computes for the compose configuration: exact hosts, systemctl only.
  const result = resolveConfig((name) => agentEnv[name], {
    modules: MODULES,
    hostname: () => "lab",
  });
  assert.ok(result.ok);
  const flags = permissionFlags(
    computePermissions(result.config, ["/app/.env", "/app/.env.local"], "agent"),
  );
  assert.ok(flags.includes("--allow-run=systemctl"), flags.join(" "));
  assert.ok(flags.some((f) => f.startsWith("--allow-net=") && f.includes("mock-monitoring:8765")));
  assert.ok(!flags.some((f) => f === "--allow-net" || f === "-A"));
});

Deno.test("compile: the flags baked into the binary equal deno task permissions", async () => {
  const vars = {
    AGENT_ID: "pkg",
    ENABLED_MODULES: "tcp",
    TCP_CHECKS: "127.0.0.1:22",
    MONITORING_URL: "ws://127.0.0.1:9999",
  };
  const env = { AGENT_ENV_FILE: await envFile(vars) };
  const printed = spawnDeno([...await taskArgs("compile"), "--print"], env);
  const permissions = spawnDeno(await taskArgs("permissions"), env);
  assert.equal((await printed.exit()).code, 0, printed.stderr.join("\n"));
  assert.equal((await permissions.exit()).code, 0);
  const command = printed.stdout.join(" ").split(/\s+/);
  assert.deepEqual(command.slice(0, 3), ["deno", "compile", "--no-prompt"]);
  const baked = command.filter((w) => w.startsWith("--allow-"));
  const computed = permissions.stdout.join(" ").split(/\s+/).filter((w) =>
    w.startsWith("--allow-")
  );
  assert.deepEqual(baked, computed);
  // The V8 settings the agent runs with elsewhere are baked in too.
  for (const flag of AGENT_V8_FLAGS) assert.ok(command.includes(flag), command.join(" "));
  assert.ok(command.includes("--output") && command.at(-1)?.endsWith("main.ts"));
});

const UNIT = ROOT + "deploy/kozak-agent.service";

function unitEntries(text: string): Map<string, string[]> {
  const entries = new Map<string, string[]>();
  let section = "";
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const header = /^\[(\w+)\]$/.exec(line);
    if (header) {
      section = header[1];
      continue;
    }
    const eq = line.indexOf("=");
    assert.ok(section && eq > 0, `malformed unit line: ${line}`);
    const key = `${section}.${line.slice(0, eq)}`;
    entries.set(key, [...(entries.get(key) ?? []), line.slice(eq + 1)]);
  }
  return entries;
}

Deno.test("systemd unit: hardened, a dedicated user, restart on failure, an EnvironmentFile", async () => {
  const entries = unitEntries(await Deno.readTextFile(UNIT));
  const one = (key: string) => entries.get(key)?.[0];
  assert.equal(one("Service.ExecStart"), "/usr/local/bin/kozak-agent start");
  assert.equal(one("Service.User"), "kozak-agent");
  assert.equal(one("Service.NoNewPrivileges"), "yes");
  assert.equal(one("Service.ProtectSystem"), "strict");
  assert.equal(one("Service.ProtectHome"), "yes");
  assert.equal(one("Service.PrivateTmp"), "yes");
  assert.equal(one("Service.Restart"), "on-failure");
  assert.equal(one("Service.RestartPreventExitStatus"), "2");
  assert.equal(one("Service.EnvironmentFile"), "/etc/kozak-agent/agent.env");
  assert.equal(one("Service.Environment"), "AGENT_ENV_FILE=/etc/kozak-agent/agent.env");
  assert.equal(one("Install.WantedBy"), "multi-user.target");
});

Deno.test({
  name: "systemd unit: systemd-analyze verify accepts it",
  ignore: skipUnlessAvailable("/usr/bin/systemd-analyze", "/bin/systemd-analyze"),
  fn: async () => {
    // verify also checks that ExecStart exists: point it at a stand-in binary in a temp dir.
    const dir = await Deno.makeTempDir({ prefix: "kozak-unit-" });
    try {
      const binary = `${dir}/kozak-agent`;
      await Deno.writeTextFile(binary, "#!/bin/sh\nexit 0\n", { mode: 0o755 });
      const unit = (await Deno.readTextFile(UNIT)).replace("/usr/local/bin/kozak-agent", binary);
      await Deno.writeTextFile(`${dir}/kozak-agent.service`, unit);
      const out = await new Deno.Command("systemd-analyze", {
        args: ["verify", `${dir}/kozak-agent.service`],
      }).output();
      const stderr = new TextDecoder().decode(out.stderr);
      assert.equal(out.code, 0, stderr);
      assert.doesNotMatch(stderr, /kozak-agent\.service:/, stderr);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
