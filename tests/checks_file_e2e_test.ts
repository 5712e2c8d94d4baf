/**
 * End to end with a checks file (issue 13): several instances of a module,
 * labels, secrets from files, `validate` and `check NAME`, through the
 * launcher as users run them.
 */

import assert from "node:assert/strict";
import type { CheckEvent } from "../src/protocol.ts";
import { skipUnlessAvailable } from "./support/binaries.ts";
import { checkEvents, FAST_AGENT, receivedValid } from "./support/events.ts";
import { closedPort, openListener, serveTcp } from "./support/listeners.ts";
import { POSTGRES_BINARIES, startPostgres } from "./support/postgres_server.ts";
import { spawnDeno, startMock, startTask, taskArgs, waitFor } from "./support/processes.ts";

/** A temp dir with the files of one test; removed by the caller. */
async function files(
  contents: Record<string, string>,
): Promise<{ dir: string; path(name: string): string }> {
  const dir = await Deno.makeTempDir({ prefix: "kozak-checks-" });
  for (const [name, text] of Object.entries(contents)) {
    await Deno.writeTextFile(`${dir}/${name}`, text);
    await Deno.chmod(`${dir}/${name}`, 0o600);
  }
  return { dir, path: (name) => `${dir}/${name}` };
}

Deno.test("e2e: validate lists instances and permissions and contacts no target and no monitoring server", async () => {
  // Every target and the monitoring address record any connection; none may come.
  const listeners = Array.from({ length: 5 }, () => serveTcp(() => Promise.resolve()));
  const [pg, mysql, ssh, web, monitoring] = listeners;
  const f = await files({
    "pg.pw": "pg-secret-value\n",
    "checks.yaml": `labels: { region: eu-1 }
checks:
  - module: postgres
    name: orders-db
    labels: { team: payments }
    host: 127.0.0.1
    port: ${pg.port}
    user: monitor
    password_file: PWFILE
  - module: mysql
    host: 127.0.0.1
    port: ${mysql.port}
    user: monitor
  - module: ssh
    name: bastion
    host: 127.0.0.1
    port: ${ssh.port}
    user: monitor
    password: ssh-secret-value
  - module: nginx
    status_url: http://127.0.0.1:${web.port}/status
  - module: tcp
    name: edge
    checks: [127.0.0.1:${web.port}, "[::1]:1"]
`,
  });
  try {
    await Deno.writeTextFile(
      f.path("checks.yaml"),
      (await Deno.readTextFile(f.path("checks.yaml"))).replace("PWFILE", f.path("pg.pw")),
    );
    const run = await startTask("validate", {
      AGENT_ID: "validator",
      MONITORING_URL: `ws://127.0.0.1:${monitoring.port}`,
      AGENT_CHECKS_FILE: f.path("checks.yaml"),
    });
    const status = await run.exit(30_000);
    const out = run.stdout.join("\n");
    assert.equal(status.code, 0, out + run.stderr.join("\n"));
    for (
      const row of [
        "orders-db  postgres",
        "mysql      mysql",
        "bastion    ssh",
        "nginx      nginx",
        "edge       tcp",
      ]
    ) {
      assert.ok(out.includes(row), `missing ${row} in\n${out}`);
    }
    assert.match(out, /region=eu-1,team=payments/);
    const net = /--allow-net=(\S+)/.exec(out)?.[1].split(",") ?? [];
    for (const l of listeners) {
      assert.ok(net.includes(`127.0.0.1:${l.port}`), `${l.port} in ${net}`);
    }
    assert.match(out, new RegExp(`--allow-read=.*${f.path("checks.yaml")}.*${f.path("pg.pw")}`));
    assert.match(out, /\nvalid$/);
    assert.doesNotMatch(out, /pg-secret-value|ssh-secret-value/);
    await new Promise((r) => setTimeout(r, 200)); // a late connect would have arrived by now
    assert.deepEqual(listeners.map((l) => l.accepted()), [0, 0, 0, 0, 0], "validate connected");
  } finally {
    await Promise.all(listeners.map((l) => l.close()));
    await Deno.remove(f.dir, { recursive: true });
  }
});

Deno.test("e2e: validate reports bad files with their position and exits 2", async () => {
  const cases: Array<[string, RegExp]> = [
    ["checks:\n  - module: tcp\n    checks: [a\n", /checks\.yaml:\d+:\d+: not valid YAML/],
    [
      "checks:\n  - module: tcp\n    checks: 127.0.0.1:1\n  - module: tcp\n    name: tcp\n    checks: 127.0.0.1:2\n",
      /checks\.yaml:4:5: the instance name "tcp" is used twice/,
    ],
    ["checks:\n  - module: redis\n", /checks\.yaml:2:13: unknown module "redis"/],
    [
      "checks:\n  - module: postgres\n    hots: db\n",
      /checks\.yaml:3:5: unknown key "hots" for module postgres \(did you mean host\?\)/,
    ],
  ];
  for (const [text, pattern] of cases) {
    const f = await files({ "checks.yaml": text });
    try {
      const run = await startTask("validate", {
        AGENT_ID: "v",
        AGENT_CHECKS_FILE: f.path("checks.yaml"),
      });
      const status = await run.exit(30_000);
      assert.equal(status.code, 2, run.stdout.join("\n"));
      assert.match(run.stdout.join("\n"), pattern);
      assert.match(run.stdout.join("\n"), /not valid$/);
    } finally {
      await Deno.remove(f.dir, { recursive: true });
    }
  }
  const missing = await startTask("start", {
    AGENT_ID: "v",
    AGENT_CHECKS_FILE: "/no/such/checks.yaml",
  });
  assert.equal((await missing.exit(30_000)).code, 2);
  assert.match(
    missing.stderr.join("\n"),
    /config error: AGENT_CHECKS_FILE: cannot read \/no\/such\/checks\.yaml: no such file/,
  );
});

Deno.test("e2e: check NAME runs only that instance or module; an unknown name is exit 2; --help explains", async () => {
  const open = openListener();
  const f = await files({
    "checks.yaml": `checks:
  - { module: tcp, name: edge, checks: "127.0.0.1:${open.port}" }
  - { module: tcp, name: backend, checks: "127.0.0.1:${closedPort()}" }
`,
  });
  try {
    const vars = { AGENT_ID: "c", AGENT_CHECKS_FILE: f.path("checks.yaml") };
    const edge = await startTask("check", vars, ["--json", "edge"]);
    assert.equal((await edge.exit(30_000)).code, 0, edge.stderr.join("\n"));
    const events = edge.stdout.filter((l) => l.trim()).map((l) => JSON.parse(l) as CheckEvent);
    assert.deepEqual(events.map((e) => [e.instance, e.status]), [["edge", "ok"]]);
    const all = await startTask("check", vars, ["tcp"]);
    assert.equal((await all.exit(30_000)).code, 1, "backend is refused");
    assert.match(all.stdout.join("\n"), /2 check\(s\): 1 ok, 1 not ok/);
    const unknown = await startTask("check", vars, ["nope"]);
    assert.equal((await unknown.exit(30_000)).code, 2);
    assert.match(
      unknown.stderr.join("\n"),
      /no instance or module named "nope" \(instances: edge, backend\)/,
    );
    const help = await startTask("check", vars, ["--help"]);
    assert.equal((await help.exit(30_000)).code, 0);
    assert.match(help.stdout.join("\n"), /^usage: deno task check \[--json\] \[NAME…\]/);
    assert.equal(
      open.accepted(),
      2,
      "edge ran twice (by its name, then by its module); nothing else",
    );
  } finally {
    await open.close();
    await Deno.remove(f.dir, { recursive: true });
  }
});

Deno.test({
  name:
    "e2e: two PostgreSQL instances (password from a file, and a wrong one) and two labelled TCP instances reach the mock",
  ignore: skipUnlessAvailable(...POSTGRES_BINARIES),
  async fn() {
    const pg = await startPostgres();
    const mock = await startMock();
    const open = openListener();
    const password = "pg-" + crypto.randomUUID();
    const f = await files({ "pg.pw": password + "\n" });
    try {
      await pg.psql(
        `CREATE ROLE monitor LOGIN PASSWORD '${password}'; GRANT pg_monitor TO monitor;`,
      );
      await Deno.writeTextFile(
        f.path("checks.yaml"),
        `labels: { region: eu-1 }
checks:
  - module: postgres
    name: orders-db
    labels: { team: payments }
    host: 127.0.0.1
    port: ${pg.port}
    user: monitor
    password_file: ${f.path("pg.pw")}
  - module: postgres
    name: orders-wrong
    host: 127.0.0.1
    port: ${pg.port}
    user: monitor
    password: wrong-password-1
  - { module: tcp, name: edge, labels: { tier: front }, checks: ["127.0.0.1:${open.port}"] }
  - { module: tcp, name: closed, checks: ["127.0.0.1:${closedPort()}"] }
`,
      );
      const agent = await startTask("start", {
        ...FAST_AGENT,
        CHECK_TIMEOUT_SECONDS: "5",
        MONITORING_URL: mock.url,
        AGENT_CHECKS_FILE: f.path("checks.yaml"),
      });
      try {
        const events = await waitFor("an event from each instance", async () => {
          const got = checkEvents(await receivedValid(mock));
          const names = new Set(got.map((e) => e.instance));
          return ["orders-db", "orders-wrong", "edge", "closed"].every((n) => names.has(n)) && got;
        }, 30_000);
        const by = (name: string) => events.find((e) => e.instance === name)!;
        assert.equal(by("orders-db").status, "ok", JSON.stringify(by("orders-db")));
        assert.deepEqual(by("orders-db").labels, { region: "eu-1", team: "payments" });
        assert.equal(by("orders-wrong").reason, "auth");
        assert.deepEqual(by("orders-wrong").labels, { region: "eu-1" });
        assert.equal(by("edge").status, "ok");
        assert.deepEqual(by("edge").labels, { region: "eu-1", tier: "front" });
        assert.equal(by("closed").reason, "refused");
        const all = JSON.stringify(await mock.events()) + agent.stderr.join("\n");
        assert.ok(!all.includes(password), "the password from the file leaked");
        assert.ok(
          mock.stdout.some((l) => l.includes(" check postgres/orders-db ")),
          "the mock's line names the instance",
        );
      } finally {
        agent.kill("SIGTERM");
        await agent.exit();
      }
    } finally {
      mock.kill("SIGKILL");
      await mock.exit();
      await open.close();
      await pg.destroy();
      await Deno.remove(f.dir, { recursive: true });
    }
  },
});

Deno.test("e2e: MONITORING_TOKEN_FILE carries the token to a mock that requires it", async () => {
  const token = "tok-" + crypto.randomUUID();
  const mock = await startMock(0, { MOCK_TOKEN: token });
  const f = await files({ token: token + "\n" });
  const agent = await startTask("start", {
    ...FAST_AGENT,
    MONITORING_URL: mock.url,
    MONITORING_TOKEN_FILE: f.path("token"),
  });
  try {
    await waitFor(
      "a heartbeat accepted with the token",
      async () => (await receivedValid(mock)).some((e) => e.type === "heartbeat"),
      20_000,
    );
    assert.ok(!agent.stderr.join("\n").includes(token));
    assert.ok(!mock.stdout.some((l) => l.includes("rejected connection")));
  } finally {
    agent.kill("SIGTERM");
    await agent.exit();
    mock.kill("SIGKILL");
    await mock.exit();
    await Deno.remove(f.dir, { recursive: true });
  }
});

Deno.test("e2e: a typo in a variable of the process environment is named with the closest known one", async () => {
  const run = spawnDeno(await taskArgs("permissions"), { TCP_CHECK: "127.0.0.1:1", AGENT_ID: "t" });
  assert.equal((await run.exit()).code, 0);
  assert.match(
    run.stderr.join("\n"),
    /warning: TCP_CHECK: is set but no part of the agent reads it \(did you mean TCP_CHECKS\?\)/,
  );
});
