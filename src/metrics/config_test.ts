import assert from "node:assert/strict";
import { MODULES } from "../../checks/mod.ts";
import { resolveConfig } from "../config.ts";
import { computePermissions, permissionFlags } from "../permissions.ts";
import { resolveMetricsSettings } from "./config.ts";

const files: Record<string, string> = { "/run/secrets/rw": "file-token-value\n", "/run/empty": "" };
const readFile = (path: string) => {
  if (path in files) return files[path];
  throw new Deno.errors.NotFound(path);
};

function settings(vars: Record<string, string>) {
  const problems: { variable: string; message: string }[] = [];
  const result = resolveMetricsSettings((n) => vars[n], problems, readFile);
  return { result, problems };
}

Deno.test("METRICS_LISTEN takes host:port, [v6]:port and :port", () => {
  assert.deepEqual(settings({ METRICS_LISTEN: "127.0.0.1:9464" }).result.listen, {
    hostname: "127.0.0.1",
    port: 9464,
    entry: "127.0.0.1:9464",
  });
  assert.deepEqual(settings({ METRICS_LISTEN: "[::1]:9464" }).result.listen, {
    hostname: "::1",
    port: 9464,
    entry: "[::1]:9464",
  });
  assert.equal(settings({ METRICS_LISTEN: ":9464" }).result.listen?.entry, "0.0.0.0:9464");
  assert.deepEqual(settings({}).result, {});
});

Deno.test("a bad METRICS_LISTEN is a problem naming the variable", () => {
  for (const bad of ["9464", "127.0.0.1:0", "127.0.0.1:99999", "http://x:1", "no host:1"]) {
    const { problems } = settings({ METRICS_LISTEN: bad });
    assert.equal(problems.length, 1, bad);
    assert.equal(problems[0].variable, "METRICS_LISTEN");
    assert.match(problems[0].message, /host:port/);
  }
});

Deno.test("REMOTE_WRITE_URL with its interval, queue bound and token", () => {
  const { result, problems } = settings({
    REMOTE_WRITE_URL: "https://vm.example/api/v1/write?extra_label=dc=1",
    REMOTE_WRITE_INTERVAL_SECONDS: "5",
    REMOTE_WRITE_QUEUE_MAX_SAMPLES: "20000",
    REMOTE_WRITE_TOKEN: "tok-123",
  });
  assert.deepEqual(problems, []);
  const rw = result.remoteWrite!;
  assert.equal(rw.url.href, "https://vm.example/api/v1/write?extra_label=dc=1");
  assert.equal(rw.entry, "vm.example:443");
  assert.equal(rw.intervalMs, 5000);
  assert.equal(rw.maxSamples, 20000);
  assert.equal(rw.token, "tok-123");
  const defaults = settings({ REMOTE_WRITE_URL: "http://127.0.0.1:8428/api/v1/write" }).result;
  assert.equal(defaults.remoteWrite?.intervalMs, 15_000);
  assert.equal(defaults.remoteWrite?.entry, "127.0.0.1:8428");
});

Deno.test("REMOTE_WRITE_TOKEN_FILE reads the token; both forms, an empty file or no URL are problems", () => {
  const fromFile = settings({
    REMOTE_WRITE_URL: "http://[::1]:8428/api/v1/write",
    REMOTE_WRITE_TOKEN_FILE: "/run/secrets/rw",
  }).result.remoteWrite!;
  assert.equal(fromFile.token, "file-token-value");
  assert.equal(fromFile.tokenFile, "/run/secrets/rw");
  assert.equal(fromFile.entry, "[::1]:8428");
  const cases: [Record<string, string>, string, RegExp][] = [
    [
      { REMOTE_WRITE_TOKEN: "a-token", REMOTE_WRITE_TOKEN_FILE: "/run/secrets/rw" },
      "REMOTE_WRITE_TOKEN_FILE",
      /both set/,
    ],
    [{ REMOTE_WRITE_TOKEN_FILE: "/run/empty" }, "REMOTE_WRITE_TOKEN_FILE", /is empty/],
    [{ REMOTE_WRITE_TOKEN_FILE: "/nope" }, "REMOTE_WRITE_TOKEN_FILE", /cannot read/],
  ];
  for (const [vars, variable, message] of cases) {
    const { problems } = settings({ REMOTE_WRITE_URL: "http://127.0.0.1:1/w", ...vars });
    assert.equal(problems[0]?.variable, variable, JSON.stringify(vars));
    assert.match(problems[0].message, message);
    assert.ok(!problems[0].message.includes("a-token"));
  }
  const lonely = settings({ REMOTE_WRITE_TOKEN: "a-token" }).problems;
  assert.equal(lonely[0].variable, "REMOTE_WRITE_TOKEN");
  assert.match(lonely[0].message, /REMOTE_WRITE_URL is not/);
});

Deno.test("a bad REMOTE_WRITE_URL or interval is a problem naming the variable", () => {
  const cases: [Record<string, string>, string][] = [
    [{ REMOTE_WRITE_URL: "ws://127.0.0.1:1/" }, "REMOTE_WRITE_URL"],
    [{ REMOTE_WRITE_URL: "not a url" }, "REMOTE_WRITE_URL"],
    [{ REMOTE_WRITE_URL: "http://user:pw@127.0.0.1/" }, "REMOTE_WRITE_URL"],
    [
      { REMOTE_WRITE_URL: "http://127.0.0.1/", REMOTE_WRITE_INTERVAL_SECONDS: "0" },
      "REMOTE_WRITE_INTERVAL_SECONDS",
    ],
    [
      { REMOTE_WRITE_URL: "http://127.0.0.1/", REMOTE_WRITE_QUEUE_MAX_SAMPLES: "5" },
      "REMOTE_WRITE_QUEUE_MAX_SAMPLES",
    ],
  ];
  for (const [vars, variable] of cases) {
    const { problems } = settings(vars);
    assert.equal(problems[0]?.variable, variable, JSON.stringify(vars));
    assert.ok(!problems[0].message.includes("pw"));
  }
});

Deno.test("the agent's configuration grants exactly the listen and remote-write addresses and redacts the token", () => {
  const vars: Record<string, string> = {
    METRICS_LISTEN: "127.0.0.1:9464",
    REMOTE_WRITE_URL: "http://127.0.0.1:8428/api/v1/write",
    REMOTE_WRITE_TOKEN_FILE: "/run/secrets/rw",
  };
  const result = resolveConfig((n) => vars[n], { modules: MODULES, hostname: () => "h", readFile });
  assert.ok(result.ok, JSON.stringify(!result.ok && result.problems));
  const config = result.config;
  assert.deepEqual(config.agentNet, ["127.0.0.1:9464", "127.0.0.1:8428"]);
  assert.ok(config.readFiles.includes("/run/secrets/rw"));
  assert.deepEqual(config.secrets.filter((s) => s.name === "REMOTE_WRITE_TOKEN"), [
    { name: "REMOTE_WRITE_TOKEN", value: "file-token-value" },
  ]);
  const agentFlags = permissionFlags(computePermissions(config, [], "agent"));
  const net = agentFlags.find((f) => f.startsWith("--allow-net="));
  assert.equal(net, "--allow-net=127.0.0.1:8428,127.0.0.1:9464,localhost:8765");
  const checkFlags = permissionFlags(computePermissions(config, [], "check"));
  assert.equal(checkFlags.find((f) => f.startsWith("--allow-net=")), undefined);
  assert.ok(config.envNames.includes("METRICS_LISTEN"));
});
