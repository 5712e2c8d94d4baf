import assert from "node:assert/strict";
import type { CheckResult } from "../../src/check.ts";
import {
  assertEndedAt,
  assertError,
  MYSQL_FIXTURES as FIXTURES,
  mysqlConfig as configOf,
  runMysql as runCheck,
  runMysqlInChild as runInChild,
} from "../../tests/support/mysql_check.ts";
import {
  type FakeBehaviour,
  type FakeMysql,
  startFakeMysql,
  startTlsFakeMysql,
} from "../../tests/support/mysql_fakes.ts";
import { waitFor } from "../../tests/support/processes.ts";
import { QUERIES } from "./metrics.ts";
import { mysql } from "./mod.ts";

Deno.test("mysql honours the deadline in every phase and closes its connection", async (t) => {
  // Each case: a fake that stalls in one phase, the run's deadline, and what the result must say.
  const cases: Array<{
    name: string;
    behaviour: FakeBehaviour;
    vars: Record<string, string>;
    deadlineMs: number;
    /** When the run must end (the deadline, or the shorter connect timeout). */
    endsAtMs: number;
    expect: (result: CheckResult, fake: FakeMysql) => void;
  }> = [
    {
      name: "login never answered (plain)",
      behaviour: { kind: "greet-then-silent" },
      vars: { MYSQL_PASSWORD: "fake-pw-1" },
      deadlineMs: 500,
      endsAtMs: 500,
      expect: (result) => assert.equal(result.details?.phase, "auth"),
    },
    {
      name: "TLS handshake never answered (MYSQL_SSL=true)",
      behaviour: { kind: "greet-then-silent", ssl: true },
      vars: { MYSQL_SSL: "true" },
      deadlineMs: 500,
      endsAtMs: 500,
      expect: (result) => assert.equal(result.details?.phase, "auth"),
    },
    {
      name: "login stalls past MYSQL_CONNECT_TIMEOUT_SECONDS",
      behaviour: { kind: "greet-then-silent" },
      vars: { MYSQL_CONNECT_TIMEOUT_SECONDS: "0.3" },
      deadlineMs: 3_000,
      endsAtMs: 300,
      expect: (result) =>
        assert.match(result.message ?? "", /login .* did not complete within 0.3 s/),
    },
    {
      name: "query never answered",
      behaviour: { kind: "login-then-silent" },
      vars: {},
      deadlineMs: 500,
      endsAtMs: 500,
      expect: (result, fake) => {
        assert.equal(result.details?.phase, "query");
        assert.equal(result.details?.query, "select_1");
        assert.deepEqual(fake.queries(), [QUERIES.select_1]);
      },
    },
  ];
  for (const c of cases) {
    await t.step(c.name, async () => {
      const fake = startFakeMysql(c.behaviour);
      try {
        const { result, elapsedMs } = await runCheck(
          configOf({
            MYSQL_HOST: "127.0.0.1",
            MYSQL_PORT: String(fake.port),
            MYSQL_USER: "u",
            ...c.vars,
          }),
          c.deadlineMs,
        );
        assertError(result, "timeout");
        c.expect(result, fake);
        assertEndedAt(elapsedMs, c.endsAtMs);
        await waitFor("the client to close", () => fake.closedByClient() === 1, 2_000);
      } finally {
        await fake.close();
      }
    });
  }

  await t.step("an already aborted signal ends the run at once", async () => {
    const fake = startFakeMysql({ kind: "login-then-silent" });
    try {
      const controller = new AbortController();
      controller.abort();
      const started = performance.now();
      const result = await (await mysql.load()).run(
        configOf({ MYSQL_HOST: "127.0.0.1", MYSQL_PORT: String(fake.port), MYSQL_USER: "u" }),
        { signal: controller.signal, memory: new Map() },
      );
      assert.ok(!Array.isArray(result));
      assertError(result, "timeout");
      assert.ok(performance.now() - started < 200);
    } finally {
      await fake.close();
    }
  });
});

Deno.test("mysql honours the deadline after TLS is up, while the login is unanswered", async () => {
  const fake = await startTlsFakeMysql(`${FIXTURES}/server.pem`, `${FIXTURES}/server-key.pem`);
  try {
    const { result, elapsedMs } = await runInChild(
      {
        MYSQL_HOST: "127.0.0.1",
        MYSQL_PORT: String(fake.port),
        MYSQL_USER: "u",
        MYSQL_SSL: "true",
      },
      800,
    );
    assertError(result, "timeout");
    assert.equal(result.details?.phase, "auth");
    assertEndedAt(elapsedMs, 800);
    assert.ok(fake.loginBytes() > 0, "the login never arrived over TLS");
    await waitFor(
      "the client to close the TLS connection",
      () => fake.closedByClient() === 1,
      2_000,
    );
  } finally {
    await fake.close();
  }
});

Deno.test("mysql reports its phases in the shared vocabulary: connect, handshake, auth, query", async () => {
  const fake = startFakeMysql({ kind: "login-then-silent" });
  try {
    const phases: string[] = [];
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), 500);
    const result = await (await mysql.load()).run(
      configOf({ MYSQL_HOST: "127.0.0.1", MYSQL_PORT: String(fake.port), MYSQL_USER: "u" }),
      { signal: controller.signal, memory: new Map(), phase: (p) => phases.push(p) },
    ).finally(() => clearTimeout(timer));
    assert.ok(!Array.isArray(result));
    assertError(result, "timeout");
    assert.deepEqual(phases, ["connect", "handshake", "auth", "query"]);
    assert.equal(result.details?.phase, "query");
  } finally {
    await fake.close();
  }
});
