/**
 * End to end, through the tasks users run: `deno task validate` checks the
 * TLS files without connecting; `deno task start` reaches a monitoring server
 * behind a TLS front that demands a client certificate, with the private CA;
 * the key's content shows in no output and no event; a token over ws:// to a
 * host that is not loopback is warned about at start and by validate.
 */

import assert from "node:assert/strict";
import { skipUnlessAvailable } from "./support/binaries.ts";
import { FAST_AGENT, receivedValid } from "./support/events.ts";
import { type ClientPki, makeClientPki, makePki, OPENSSL_BINARY, type Pki } from "./support/pki.ts";
import { startMock, startTask, waitFor } from "./support/processes.ts";
import { TlsFront } from "./support/tls_front.ts";

const ignore = skipUnlessAvailable(OPENSSL_BINARY);
let pki: Pki;
let clients: ClientPki;

const keyLines = (path: string) =>
  Deno.readTextFileSync(path).split("\n").filter((l) => l.length >= 16 && !l.startsWith("-----"));

function assertNoKey(text: string, key: string): void {
  for (const line of keyLines(key)) {
    assert.ok(!text.includes(line), "a line of the client key was printed");
  }
}

Deno.test({
  name: "TLS e2e setup: certificates",
  ignore,
  async fn() {
    pki = await makePki();
    clients = await makeClientPki(pki);
  },
});

const mtls = () => ({
  MONITORING_URL: "wss://127.0.0.1:1/agent",
  MONITORING_CA_FILE: pki.caCert,
  MONITORING_CLIENT_CERT_FILE: clients.client.cert,
  MONITORING_CLIENT_KEY_FILE: clients.client.key,
});

Deno.test({
  name: "e2e: validate accepts good TLS files, grants exactly them, and never prints the key",
  ignore,
  async fn() {
    const run = await startTask("validate", { AGENT_ID: "tls", ...mtls() });
    const status = await run.exit(30_000);
    const out = run.stdout.join("\n");
    assert.equal(status.code, 0, out + run.stderr.join("\n"));
    const read = /--allow-read=(\S+)/.exec(out)?.[1].split(",") ?? [];
    for (const f of [pki.caCert, clients.client.cert, clients.client.key]) {
      assert.ok(read.includes(f), out);
    }
    assert.ok(!read.includes(pki.dir), "the whole directory was granted");
    assertNoKey(out + run.stderr.join("\n"), clients.client.key);
  },
});

for (
  const [what, vars, variable, message] of [
    [
      "a key that is not the certificate's",
      () => ({ ...mtls(), MONITORING_CLIENT_KEY_FILE: clients.otherClient.key }),
      "MONITORING_CLIENT_KEY_FILE",
      /is not the key of the certificate/,
    ],
    [
      "an expired client certificate",
      () => ({
        ...mtls(),
        MONITORING_CLIENT_CERT_FILE: clients.expiredClient.cert,
        MONITORING_CLIENT_KEY_FILE: clients.expiredClient.key,
      }),
      "MONITORING_CLIENT_CERT_FILE",
      /expired on/,
    ],
    [
      "a certificate without its key",
      () => ({ ...mtls(), MONITORING_CLIENT_KEY_FILE: "" }),
      "MONITORING_CLIENT_CERT_FILE",
      /MONITORING_CLIENT_KEY_FILE is not/,
    ],
    [
      "a CA file that is not PEM",
      () => ({ ...mtls(), MONITORING_CA_FILE: `${pki.dir}/index.txt` }),
      "MONITORING_CA_FILE",
      /not a PEM certificate/,
    ],
    [
      "a CA file that cannot be read",
      () => ({ ...mtls(), MONITORING_CA_FILE: `${pki.dir}/missing.pem` }),
      "MONITORING_CA_FILE",
      /cannot read/,
    ],
  ] as const
) {
  Deno.test({
    name: `e2e: validate reports ${what} and exits 2, without connecting`,
    ignore,
    async fn() {
      const run = await startTask("validate", { AGENT_ID: "tls", ...vars() });
      const status = await run.exit(30_000);
      const out = run.stdout.join("\n") + run.stderr.join("\n");
      assert.equal(status.code, 2, out);
      assert.match(out, new RegExp(`${variable}: .*${message.source}`));
      assertNoKey(out, clients.client.key);
      assertNoKey(out, clients.otherClient.key);
    },
  });
}

Deno.test({
  name:
    "e2e: a token over ws:// to a host that is not loopback is a warning at start and from validate (exit 0)",
  async fn() {
    const vars = {
      AGENT_ID: "tls",
      MONITORING_URL: "ws://monitoring.example.test:8765",
      MONITORING_TOKEN: "tok-e2e-123",
    };
    const validate = await startTask("validate", vars);
    assert.equal((await validate.exit(30_000)).code, 0);
    const out = validate.stdout.join("\n");
    assert.match(
      out,
      /warning: MONITORING_URL: MONITORING_TOKEN would travel in clear text over ws:\/\//,
    );
    assert.ok(!out.includes("tok-e2e-123"));
    // `check` starts the agent's process (main.ts) without connecting anywhere: the same start-up warnings.
    const check = await startTask("check", vars);
    await check.exit(30_000);
    assert.match(check.stderr.join("\n"), /MONITORING_TOKEN would travel in clear text/);
    const loopback = await startTask("validate", {
      ...vars,
      MONITORING_URL: "ws://127.0.0.1:8765",
    });
    assert.equal((await loopback.exit(30_000)).code, 0);
    assert.doesNotMatch(loopback.stdout.join("\n"), /clear text/);
  },
});

Deno.test({
  name:
    "e2e: deno task start delivers over mutual TLS with the private CA; the key is in no output and no event",
  ignore,
  async fn() {
    const mock = await startMock();
    const front = await TlsFront.start(mock.port, {
      cert: pki.good.cert,
      key: pki.good.key,
      clientCa: pki.caCert,
    });
    const agent = await startTask("start", {
      ...FAST_AGENT,
      ...mtls(),
      MONITORING_URL: front.url().href,
      MONITORING_TOKEN: "tls-e2e-token",
    });
    try {
      const events = await waitFor("two heartbeats over TLS", async () => {
        const got = await receivedValid(mock); // every event against the schema (delivery.ignored too)
        return got.filter((e) => e.type === "heartbeat").length >= 2 && got;
      }, 30_000);
      assert.deepEqual([...new Set(front.accepted)], ["client"]);
      const beat = events.find((e) => e.type === "heartbeat" && e.delivery) as {
        delivery?: { ignored: number };
      };
      assert.equal(beat?.delivery?.ignored, 0);
      assertNoKey(JSON.stringify(events), clients.client.key);
    } finally {
      agent.kill("SIGTERM");
      await agent.exit();
      await front.stop();
      mock.kill("SIGKILL");
      await mock.exit();
    }
    const output = agent.stdout.join("\n") + agent.stderr.join("\n");
    assert.match(output, /connected to monitoring/);
    assert.doesNotMatch(output, /TLS to the monitoring server failed/);
    assertNoKey(output, clients.client.key);
  },
});

Deno.test({
  name: "TLS e2e teardown",
  ignore,
  async fn() {
    await pki?.remove();
  },
});
