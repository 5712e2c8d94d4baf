import assert from "node:assert/strict";
import { MODULES } from "../checks/mod.ts";
import { parseChecksFile } from "./checks_file.ts";
import { type AgentConfig, formatProblems, resolveConfig } from "./config.ts";
import type { CheckInstance } from "./config_modules.ts";
import { computePermissions, permissionFlags } from "./permissions.ts";

/** resolveConfig over a fake disk holding the checks file and secret files. */
function resolve(vars: Record<string, string>, disk: Record<string, string>) {
  return resolveConfig((n) => vars[n], {
    modules: MODULES,
    hostname: () => "h",
    parseChecksFile,
    readFile: (path) => {
      if (path in disk) return disk[path];
      throw new Deno.errors.NotFound(path);
    },
  });
}

function ok(vars: Record<string, string>, disk: Record<string, string>): AgentConfig {
  const result = resolve(vars, disk);
  if (!result.ok) throw new Error(formatProblems(result.problems));
  return result.config;
}

function unitError(unit: CheckInstance | undefined): string {
  assert.ok(unit && !unit.ok, `expected a config error, got ${JSON.stringify(unit?.ok)}`);
  return unit.error;
}

const FILE = { AGENT_CHECKS_FILE: "/etc/kozak/checks.yaml" };
const EXAMPLE = Deno.readTextFileSync(
  new URL("../tests/fixtures/checks/contract_example.yaml", import.meta.url),
);

Deno.test("the example file gives its instances, labels merged, the password read from its file", () => {
  const c = ok(FILE, { "/etc/kozak/checks.yaml": EXAMPLE, "/run/secrets/pg": "pg-secret-1\n" });
  assert.deepEqual(c.checks.map((u) => [u.instance, u.module.name, u.targets, u.intervalMs]), [
    ["orders-db", "postgres", ["127.0.0.1:5432/orders"], 30_000],
    ["edge", "tcp", ["127.0.0.1:443"], 30_000],
    ["edge", "tcp", ["[::1]:80"], 30_000],
  ]);
  const [pg, edge] = c.checks;
  assert.deepEqual(pg.labels, { region: "eu-1", env: "prod", team: "payments" });
  assert.deepEqual(edge.labels, { region: "eu-1" });
  assert.ok(pg.ok);
  assert.equal((pg.config as { password: string }).password, "pg-secret-1");
  assert.ok(c.secrets.some((s) => s.value === "pg-secret-1"));
  assert.deepEqual(c.readFiles, ["/etc/kozak/checks.yaml", "/run/secrets/pg"]);
  const flags = permissionFlags(computePermissions(c, [], "agent")).join(" ");
  assert.match(flags, /--allow-read=\/etc\/kozak\/checks\.yaml,\/run\/secrets\/pg/);
  assert.match(flags, /--allow-net=127\.0\.0\.1:443,127\.0\.0\.1:5432,\[::1\]:80,localhost:8765/);
  assert.deepEqual(c.enabledModules, [], "modules in the file run without ENABLED_MODULES");
});

Deno.test("a bad value in a file instance is its config error, at the value's position, in the file's words", () => {
  const text = "checks:\n  - module: postgres\n    host: db\n    port: x\n    user: u\n" +
    "  - module: ssh\n    name: bastion\n    host: db\n    user: u\n";
  const c = ok(FILE, { "/etc/kozak/checks.yaml": text });
  assert.equal(
    unitError(c.checks[0]),
    '/etc/kozak/checks.yaml:4:11: port: must be a port from 1 to 65535, got "x"',
  );
  assert.match(
    unitError(c.checks[1]),
    /^\/etc\/kozak\/checks\.yaml:6:5: key_path: set key_path \(a private key file\) or password/,
  );
  assert.equal(c.checks[1].instance, "bastion");
});

Deno.test("a password given both ways is a config error that never quotes it", () => {
  const text = "checks:\n  - module: mysql\n    host: db\n    user: u\n    password: hunter2-x\n" +
    "    password_file: /s\n";
  const c = ok(FILE, { "/etc/kozak/checks.yaml": text, "/s": "other" });
  const error = unitError(c.checks[0]);
  assert.match(error, /password and .*password_file are both set/);
  assert.doesNotMatch(error, /hunter2-x|other/);
});

Deno.test("the _FILE form of a secret variable reads the file; both forms are an error", () => {
  const base = { ENABLED_MODULES: "mysql", MYSQL_HOST: "db", MYSQL_USER: "u" };
  const c = ok({ ...base, MYSQL_PASSWORD_FILE: "/run/credentials/mysql" }, {
    "/run/credentials/mysql": "from-file-pw\r\n",
  });
  assert.ok(c.checks[0].ok);
  assert.equal((c.checks[0].config as { password: string }).password, "from-file-pw");
  assert.deepEqual(c.readFiles, ["/run/credentials/mysql"]);
  const both = ok({ ...base, MYSQL_PASSWORD: "x1234", MYSQL_PASSWORD_FILE: "/f" }, { "/f": "y" });
  assert.equal(
    unitError(both.checks[0]),
    "MYSQL_PASSWORD and MYSQL_PASSWORD_FILE are both set: use one of them",
  );
  const missing = ok({ ...base, MYSQL_PASSWORD_FILE: "/nope" }, {});
  assert.equal(
    unitError(missing.checks[0]),
    "MYSQL_PASSWORD_FILE: cannot read /nope: no such file",
  );
});

Deno.test("MONITORING_TOKEN_FILE gives the token; a missing file stops start-up", () => {
  const c = ok({ MONITORING_TOKEN_FILE: "/t" }, { "/t": "tok-from-file\n" });
  assert.equal(c.monitoringToken, "tok-from-file");
  assert.ok(c.secrets.some((s) => s.name === "MONITORING_TOKEN" && s.value === "tok-from-file"));
  assert.deepEqual(c.readFiles, ["/t"]);
  const result = resolve({ MONITORING_TOKEN_FILE: "/gone" }, {});
  assert.ok(!result.ok);
  assert.equal(
    formatProblems(result.problems),
    "config error: MONITORING_TOKEN_FILE: cannot read /gone: no such file",
  );
});

Deno.test("an instance name used by the environment and the file stops start-up, naming both", () => {
  const result = resolve(
    { ...FILE, ENABLED_MODULES: "tcp", TCP_CHECKS: "127.0.0.1:1" },
    { "/etc/kozak/checks.yaml": "checks:\n  - module: tcp\n    checks: 127.0.0.1:2\n" },
  );
  assert.ok(!result.ok);
  assert.equal(
    formatProblems(result.problems),
    'config error: /etc/kozak/checks.yaml:2:5: the instance name "tcp" is used twice (first by ENABLED_MODULES): give each instance its own name',
  );
});

Deno.test("a checks file that cannot be read or parsed stops start-up with its position", () => {
  const missing = resolve(FILE, {});
  assert.ok(!missing.ok);
  assert.equal(
    formatProblems(missing.problems),
    "config error: AGENT_CHECKS_FILE: cannot read /etc/kozak/checks.yaml: no such file",
  );
  const broken = resolve(FILE, { "/etc/kozak/checks.yaml": "checks:\n  - module: [\n" });
  assert.ok(!broken.ok);
  assert.match(
    formatProblems(broken.problems),
    /^config error: \/etc\/kozak\/checks\.yaml:\d+:\d+: not valid YAML/,
  );
});

Deno.test("a file instance's interval defaults to <MODULE>_INTERVAL_SECONDS, and a bad one is its config error", () => {
  const text =
    "checks:\n  - module: tcp\n    checks: 127.0.0.1:1\n  - module: tcp\n    interval_seconds: 0\n    checks: 127.0.0.1:2\n";
  const c = ok({ ...FILE, TCP_INTERVAL_SECONDS: "7" }, { "/etc/kozak/checks.yaml": text });
  assert.equal(c.checks[0].intervalMs, 7_000);
  assert.match(
    unitError(c.checks[1]),
    /^\/etc\/kozak\/checks\.yaml:5:23: interval_seconds must be a number of seconds from 0\.1/,
  );
  assert.equal(c.checks[1].instance, "tcp-2");
  assert.deepEqual(c.checks[1].targets, ["tcp-2"]);
});

Deno.test("a module's variables inside a file instance's message are said as keys", () => {
  const text =
    "checks:\n  - module: postgres\n    host: db\n    user: u\n    sslrootcert: /ca.pem\n";
  const c = ok(FILE, { "/etc/kozak/checks.yaml": text });
  assert.equal(
    unitError(c.checks[0]),
    "/etc/kozak/checks.yaml:5:18: sslrootcert: is only used with sslmode=verify-full (it is prefer); set both or neither",
  );
});
