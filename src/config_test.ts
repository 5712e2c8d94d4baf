import assert from "node:assert/strict";
import { MODULES } from "../checks/mod.ts";
import type { CheckModule } from "./check.ts";
import { type AgentConfig, resolveConfig } from "./config.ts";
import type { ConfigProblem } from "./config_agent.ts";
import type { CheckInstance } from "./config_modules.ts";

const options = {
  modules: MODULES,
  hostname: () => "host-from-os",
};

function resolve(vars: Record<string, string>) {
  return resolveConfig((name) => vars[name], options);
}

/** The config error of a unit that must have one. */
function unitErrorOf(unit: CheckInstance): string {
  assert.ok(!unit.ok, `expected a config error for ${unit.key}`);
  return unit.error;
}

function ok(vars: Record<string, string>): AgentConfig {
  const result = resolve(vars);
  if (!result.ok) throw new Error(`expected ok, got ${JSON.stringify(result.problems)}`);
  return result.config;
}

function problems(vars: Record<string, string>): ConfigProblem[] {
  const result = resolve(vars);
  assert.equal(result.ok, false, `expected a problem for ${JSON.stringify(vars)}`);
  return result.ok ? [] : result.problems;
}

Deno.test("resolveConfig applies the contract's defaults", () => {
  const c = ok({});
  assert.equal(c.agentId, "host-from-os");
  assert.equal(c.agentIdFromHostname, true);
  assert.equal(c.monitoringUrl.href, "ws://localhost:8765/");
  assert.equal(c.monitoringToken, undefined);
  assert.deepEqual(c.enabledModules, []);
  assert.equal(c.checkIntervalMs, 30_000);
  assert.equal(c.checkTimeoutMs, 5_000);
  assert.equal(c.checkConcurrency, 64);
  assert.equal(c.heartbeatIntervalMs, 15_000);
  assert.equal(c.queueMaxEvents, 10_000);
  assert.equal(c.queueOverflow, "drop-oldest");
  assert.equal(c.logLevel, "info");
  assert.equal(c.logFormat, "pretty");
  assert.deepEqual(c.checks, []);
});

Deno.test("resolveConfig reads every agent-wide value", () => {
  const c = ok({
    AGENT_ID: "web-1",
    MONITORING_URL: "wss://mon.example:9443/ingest",
    MONITORING_TOKEN: "tok",
    CHECK_INTERVAL_SECONDS: "10",
    CHECK_TIMEOUT_SECONDS: "2.5",
    CHECK_CONCURRENCY: "8",
    HEARTBEAT_INTERVAL_SECONDS: "0",
    QUEUE_MAX_EVENTS: "50",
    QUEUE_OVERFLOW: "drop-newest",
    LOG_LEVEL: "debug",
    LOG_FORMAT: "json",
  });
  assert.equal(c.agentId, "web-1");
  assert.equal(c.agentIdFromHostname, false);
  assert.equal(c.monitoringUrl.href, "wss://mon.example:9443/ingest");
  assert.equal(c.monitoringToken, "tok");
  assert.equal(c.checkIntervalMs, 10_000);
  assert.equal(c.checkTimeoutMs, 2_500);
  assert.equal(c.checkConcurrency, 8);
  assert.equal(c.heartbeatIntervalMs, 0);
  assert.equal(c.queueMaxEvents, 50);
  assert.equal(c.queueOverflow, "drop-newest");
  assert.equal(c.logLevel, "debug");
  assert.equal(c.logFormat, "json");
  assert.ok(c.secrets.some((s) => s.value === "tok" && s.name === "MONITORING_TOKEN"));
});

const badValues: Array<[string, string, RegExp]> = [
  ["MONITORING_URL", "not a url", /not a valid URL/],
  ["MONITORING_URL", "http://localhost:8765", /ws:\/\/ or wss:\/\//],
  ["MONITORING_URL", "ws://user:pw@localhost:8765", /must not hold credentials/],
  ["CHECK_INTERVAL_SECONDS", "-5", /number of seconds/],
  ["CHECK_INTERVAL_SECONDS", "0", /number of seconds/],
  ["CHECK_INTERVAL_SECONDS", "ten", /number of seconds/],
  ["CHECK_INTERVAL_SECONDS", "1e3", /number of seconds/],
  ["CHECK_TIMEOUT_SECONDS", "-1", /number of seconds/],
  ["CHECK_TIMEOUT_SECONDS", "99999", /from 0.1 to 3600/],
  ["HEARTBEAT_INTERVAL_SECONDS", "-1", /0 or a number of seconds/],
  ["QUEUE_MAX_EVENTS", "0", /whole number from 1/],
  ["QUEUE_MAX_EVENTS", "1.5", /whole number/],
  ["QUEUE_MAX_EVENTS", "lots", /whole number/],
  ["QUEUE_OVERFLOW", "drop-random", /drop-oldest, drop-newest/],
  ["LOG_LEVEL", "verbose", /debug, info, warn, error/],
  ["LOG_FORMAT", "xml", /pretty, json/],
  ["CHECK_CONCURRENCY", "0", /whole number from 1/],
  ["ENABLED_MODULES", "tcp,telnet", /unknown module "telnet"/],
  ["TCP_INTERVAL_SECONDS", "-3", /number of seconds/],
  ["TCP_TIMEOUT_SECONDS", "x", /number of seconds/],
  ["AGENT_ID", "a\nb", /printable/],
];

for (const [variable, value, pattern] of badValues) {
  Deno.test(`resolveConfig rejects ${variable}=${JSON.stringify(value)} naming the variable`, () => {
    const vars: Record<string, string> = {
      ENABLED_MODULES: "tcp",
      TCP_CHECKS: "127.0.0.1:22",
      [variable]: value,
    };
    const found = problems(vars);
    assert.equal(found.length, 1, JSON.stringify(found));
    assert.equal(found[0].variable, variable);
    assert.match(found[0].message, pattern);
  });
}

Deno.test("resolveConfig reports every bad value at once", () => {
  const found = problems({ QUEUE_MAX_EVENTS: "0", LOG_LEVEL: "loud", MONITORING_URL: "ftp://x" });
  assert.deepEqual(found.map((p) => p.variable).sort(), [
    "LOG_LEVEL",
    "MONITORING_URL",
    "QUEUE_MAX_EVENTS",
  ]);
});

Deno.test("a secret never appears in a configuration problem", () => {
  const secret = "Sup3r-S3cret-Token";
  const found = problems({
    MONITORING_URL: `ws://agent:${secret}@host`,
    MONITORING_TOKEN: secret,
    QUEUE_MAX_EVENTS: "-1",
  });
  for (const p of found) assert.ok(!`${p.variable} ${p.message}`.includes(secret), p.message);
  const bad = problems({ MONITORING_URL: `wss://x:${secret}@[bad` });
  assert.ok(!bad[0].message.includes(secret), bad[0].message);
});

Deno.test("module names are trimmed, lower-cased and de-duplicated", () => {
  const c = ok({ ENABLED_MODULES: " TCP , tcp,", TCP_CHECKS: "127.0.0.1:22" });
  assert.deepEqual(c.enabledModules, ["tcp"]);
  assert.equal(c.checks.length, 1);
});

Deno.test("per-module interval and timeout override the agent-wide ones", () => {
  const c = ok({
    ENABLED_MODULES: "tcp",
    TCP_CHECKS: "127.0.0.1:22",
    CHECK_INTERVAL_SECONDS: "60",
    TCP_INTERVAL_SECONDS: "5",
    TCP_TIMEOUT_SECONDS: "0.5",
  });
  assert.equal(c.checks[0].intervalMs, 5_000);
  assert.equal(c.checks[0].timeoutMs, 500);
  const d = ok({
    ENABLED_MODULES: "tcp",
    TCP_CHECKS: "127.0.0.1:22",
    CHECK_INTERVAL_SECONDS: "60",
  });
  assert.equal(d.checks[0].intervalMs, 60_000);
  assert.equal(d.checks[0].timeoutMs, 5_000);
});

Deno.test("a bad module value makes a config-error instance, not a fatal error", () => {
  const c = ok({ ENABLED_MODULES: "tcp", TCP_CHECKS: "127.0.0.1:22,db:99999,::1:80,[::1]:443" });
  assert.deepEqual(c.checks.map((i) => i.key), [
    "tcp:127.0.0.1:22",
    "tcp:db:99999",
    "tcp:::1:80",
    "tcp:[::1]:443",
  ]);
  assert.equal(c.checks[0].ok, true);
  assert.match(unitErrorOf(c.checks[1]), /port must be from 1 to 65535/);
  assert.match(unitErrorOf(c.checks[2]), /IPv6 addresses in brackets/);
  const last = c.checks[3];
  assert.ok(last.ok);
  assert.deepEqual(last.needs, { net: ["[::1]:443"] });
});

Deno.test("an enabled module without targets is a config error for that module", () => {
  const c = ok({ ENABLED_MODULES: "tcp" });
  assert.equal(c.checks.length, 1);
  assert.match(unitErrorOf(c.checks[0]), /TCP_CHECKS is empty/);
});

Deno.test("the env names list holds the agent's and the enabled modules' variables only", () => {
  const c = ok({ ENABLED_MODULES: "tcp", TCP_CHECKS: "127.0.0.1:1" });
  for (
    const name of [
      "MONITORING_URL",
      "AGENT_ENV_FILE",
      "TCP_CHECKS",
      "TCP_INTERVAL_SECONDS",
      "TCP_TIMEOUT_SECONDS",
    ]
  ) {
    assert.ok(c.envNames.includes(name), name);
  }
  assert.ok(!ok({}).envNames.includes("TCP_CHECKS"));
});

Deno.test("configuration reads no variable outside its env names list", () => {
  const read = new Set<string>();
  const vars: Record<string, string> = { ENABLED_MODULES: "tcp", TCP_CHECKS: "127.0.0.1:1" };
  const result = resolveConfig((name) => {
    read.add(name);
    return vars[name];
  }, options);
  assert.ok(result.ok);
  for (const name of read) {
    assert.ok(result.config.envNames.includes(name), `${name} read but not listed`);
  }
});

Deno.test("secret values of enabled modules are collected for redaction", () => {
  const fake: CheckModule<{ t: string }> = {
    name: "fake",
    options: [
      { name: "target", kind: "string", doc: "t" },
      { name: "password", kind: "string", secret: true, doc: "p" },
    ],
    parse: (env) => [{
      name: "x",
      targets: ["x"],
      ok: true,
      config: { t: env("FAKE_TARGET") ?? "" },
    }],
    needs: () => ({ net: ["127.0.0.1:1"] }),
    load: () => Promise.resolve({ run: () => Promise.resolve({ target: "x", status: "ok" }) }),
    secrets: () => ["url-password"],
  };
  const result = resolveConfig(
    (name) => ({ ENABLED_MODULES: "fake", FAKE_PASSWORD: "pw1" } as Record<string, string>)[name],
    { modules: new Map([["fake", fake as CheckModule<unknown>]]), hostname: () => "h" },
  );
  assert.ok(result.ok);
  assert.ok(result.config.secrets.some((s) => s.value === "pw1"));
  assert.ok(result.config.secrets.some((s) => s.value === "url-password"));
});

Deno.test("AGENT_STATUS_FILE must name a file whose directory exists", () => {
  const disk: Record<string, "file" | "directory"> = { "/": "directory", "/etc": "directory" };
  const pathKind = (path: string) => disk[path] ?? "missing";
  const check = (value: string) =>
    resolveConfig((n) => ({ AGENT_STATUS_FILE: value } as Record<string, string>)[n], {
      ...options,
      pathKind,
    });
  for (
    const [value, pattern] of [
      ["/", /must name a file, not a directory/],
      ["/etc/", /must name a file, not a directory/],
      ["/etc", /is a directory/],
      ["/no/such/dir/status", /the directory "\/no\/such\/dir" does not exist/],
      ["relative/status", /must be an absolute path/],
    ] as const
  ) {
    const result = check(value);
    assert.equal(result.ok, false, value);
    if (!result.ok) {
      assert.equal(result.problems[0].variable, "AGENT_STATUS_FILE");
      assert.match(result.problems[0].message, pattern, value);
    }
  }
  assert.equal(check("/etc/kozak.status").ok, true);
});

Deno.test("MONITORING_URL with port 0 is refused", () => {
  const p = problems({ MONITORING_URL: "ws://127.0.0.1:0" });
  assert.equal(p[0].variable, "MONITORING_URL");
  assert.match(p[0].message, /port must be from 1 to 65535/);
});

Deno.test("QUEUE_MAX_EVENTS above the limit is refused", () => {
  const p = problems({ QUEUE_MAX_EVENTS: "10000000" });
  assert.equal(p[0].variable, "QUEUE_MAX_EVENTS");
  assert.match(p[0].message, /from 1 to 1000000/);
  assert.equal(ok({ QUEUE_MAX_EVENTS: "1000000" }).queueMaxEvents, 1_000_000);
});

Deno.test("a 100 KB bad value is cut in the report", () => {
  const long = "x".repeat(100_000);
  for (
    const variable of ["MONITORING_URL", "CHECK_INTERVAL_SECONDS", "LOG_LEVEL", "ENABLED_MODULES"]
  ) {
    const p = problems({ [variable]: long });
    assert.equal(p[0].variable, variable);
    assert.ok(p[0].message.length < 300, `${variable}: ${p[0].message.length} characters`);
  }
});

Deno.test("LOG_LEVEL and other words are case-insensitive", () => {
  const c = ok({ LOG_LEVEL: "DEBUG", LOG_FORMAT: "JSON", QUEUE_OVERFLOW: "Drop-Newest" });
  assert.equal(c.logLevel, "debug");
  assert.equal(c.logFormat, "json");
  assert.equal(c.queueOverflow, "drop-newest");
});
