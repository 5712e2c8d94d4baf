import assert from "node:assert/strict";
import type { CheckResult } from "../../src/check.ts";
import { skipUnlessAvailable } from "../../tests/support/binaries.ts";
import { closedPort, UNRESOLVABLE_HOST } from "../../tests/support/listeners.ts";
import { ROOT } from "../../tests/support/processes.ts";
import { SSHD, type SshdServer, startSshd } from "../../tests/support/sshd_server.ts";
import { describeHostKey, parsePins } from "./host_key.ts";
import { ssh, type SshConfig } from "./mod.ts";
import { unitConfig, unitError } from "../../tests/support/specs.ts";
import { moduleEnvNames, secretVariables } from "../../src/config_modules.ts";

/** A timeout case must end within its timeout plus this. */
const MARGIN_MS = 300;

function specsOf(vars: Record<string, string>) {
  return ssh.parse((name) => {
    assert.ok(moduleEnvNames(ssh).includes(name), `parse read ${name}, which is not in ssh.env`);
    return vars[name];
  });
}

function configOf(vars: Record<string, string>): SshConfig {
  const [spec] = specsOf(vars);
  return unitConfig(spec);
}

interface Timed {
  result: CheckResult;
  elapsedMs: number;
}

/**
 * A listener that accepts, optionally sends `greeting`, and then never writes
 * again; it can tell whether the client closed each connection (EOF).
 */
function holdingListener(greeting?: string) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const held: Deno.Conn[] = [];
  const accepting = (async () => {
    try {
      for await (const conn of listener) {
        held.push(conn);
        if (greeting) await conn.write(new TextEncoder().encode(greeting));
      }
    } catch { /* listener closed */ }
  })();
  return {
    port: (listener.addr as Deno.NetAddr).port,
    accepted: () => held.length,
    /** Whether the client closed connection `index` (EOF within `waitMs`). */
    async clientClosed(index: number, waitMs = 1000): Promise<boolean> {
      const conn = held[index];
      const buffer = new Uint8Array(4096);
      const deadline = AbortSignal.timeout(waitMs);
      const timedOut = new Promise<"open">((resolve) =>
        deadline.addEventListener("abort", () => resolve("open"), { once: true })
      );
      while (true) {
        const n = await Promise.race([conn.read(buffer).catch(() => null), timedOut]);
        if (n === "open") return false;
        if (n === null) return true;
      }
    },
    async close() {
      listener.close();
      held.forEach((c) => {
        try {
          c.close();
        } catch { /* already closed */ }
      });
      await accepting;
    },
  };
}

/** A password login to `127.0.0.1:port` as user "u": the config of the network-failure cases. */
function passwordTarget(port: number): SshConfig {
  return configOf({
    SSH_HOST: "127.0.0.1",
    SSH_PORT: String(port),
    SSH_USER: "u",
    SSH_PASSWORD: "p",
  });
}

async function runOnce(
  config: SshConfig,
  timeoutMs = 5000,
  memory = new Map<string, unknown>(),
): Promise<Timed> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  const started = performance.now();
  try {
    const result = await (await ssh.load()).run(config, { signal: controller.signal, memory });
    const elapsedMs = performance.now() - started;
    assert.ok(!Array.isArray(result));
    assert.equal(result.target, config.target);
    if (result.status !== "ok") assert.ok(result.message, "a failed result has a message");
    return { result, elapsedMs };
  } finally {
    clearTimeout(timer);
  }
}

function assertFailed(timed: Timed, reason: string, message?: RegExp) {
  const { result } = timed;
  assert.equal(result.status, "error", JSON.stringify(result));
  assert.equal(result.reason, reason, JSON.stringify(result));
  if (message) assert.match(result.message ?? "", message);
}

function assertWithin(timed: Timed, limitMs: number) {
  assert.ok(timed.elapsedMs < limitMs, `took ${timed.elapsedMs.toFixed(0)} ms, limit ${limitMs}`);
}

function assertTimedOut(timed: Timed, timeoutMs: number) {
  assertFailed(timed, "timeout");
  assert.ok(
    timed.elapsedMs >= timeoutMs - 10 && timed.elapsedMs < timeoutMs + MARGIN_MS,
    `took ${timed.elapsedMs.toFixed(0)} ms for a ${timeoutMs} ms timeout`,
  );
}

Deno.test("ssh parses its variables into one instance named host:port", () => {
  const specs = specsOf({
    SSH_HOST: "db.example.org",
    SSH_USER: "monitor",
    SSH_PASSWORD: " pass word ",
    SSH_HOST_KEY_SHA256: `SHA256:${"a".repeat(43)}=, SHA256:${"b".repeat(43)}`,
  });
  assert.equal(specs.length, 1);
  assert.deepEqual(specs[0].targets, ["db.example.org:22"]);
  assert.deepEqual(unitConfig(specs[0]), {
    host: "db.example.org",
    port: 22,
    target: "db.example.org:22",
    user: "monitor",
    password: " pass word ",
    hostKeyPins: [`SHA256:${"a".repeat(43)}`, `SHA256:${"b".repeat(43)}`],
  });
  assert.deepEqual(ssh.needs(unitConfig(specs[0])), { net: ["db.example.org:22"] });
  assert.deepEqual(secretVariables(ssh), ["SSH_KEY_PASSPHRASE", "SSH_PASSWORD"]);
});

Deno.test("ssh writes IPv6 targets in brackets and needs read access to the key file", () => {
  for (const host of ["::1", "[::1]"]) {
    const config = configOf({
      SSH_HOST: host,
      SSH_PORT: "2222",
      SSH_USER: "monitor",
      SSH_KEY_PATH: "/etc/kozak/id_ed25519",
      SSH_KEY_PASSPHRASE: "secret phrase",
    });
    assert.equal(config.host, "::1");
    assert.equal(config.target, "[::1]:2222");
    assert.deepEqual(ssh.needs(config), {
      net: ["[::1]:2222"],
      read: ["/etc/kozak/id_ed25519"],
    });
  }
});

Deno.test("ssh turns each bad or missing value into a config error that names the variable", () => {
  const cases: [Record<string, string>, RegExp][] = [
    [{ SSH_USER: "u", SSH_PASSWORD: "pw-secret-1" }, /^SSH_HOST: is required/],
    [{ SSH_HOST: "bad host", SSH_USER: "u", SSH_PASSWORD: "pw-secret-1" }, /^SSH_HOST: .*space/],
    [
      { SSH_HOST: ":80", SSH_USER: "u", SSH_PASSWORD: "pw-secret-1" },
      /^SSH_HOST: .*port in SSH_PORT/,
    ],
    [{ SSH_HOST: "a:b:c", SSH_USER: "u", SSH_PASSWORD: "pw-secret-1" }, /^SSH_HOST: .*not a host/],
    [{ SSH_HOST: "-oProxy", SSH_USER: "u", SSH_PASSWORD: "pw-secret-1" }, /^SSH_HOST: .*"-"/],
    [{ SSH_HOST: "h", SSH_USER: "u", SSH_KEY_PATH: "~/.ssh/id" }, /^SSH_KEY_PATH: .*not expanded/],
    [{ SSH_HOST: "h", SSH_PORT: "70000", SSH_USER: "u", SSH_PASSWORD: "pw-secret-1" }, /^SSH_PORT/],
    [{ SSH_HOST: "h", SSH_PASSWORD: "pw-secret-1" }, /^SSH_USER: is required/],
    [{ SSH_HOST: "h", SSH_USER: "u" }, /^SSH_KEY_PATH: set SSH_KEY_PATH .* or SSH_PASSWORD/],
    [
      { SSH_HOST: "h", SSH_USER: "u", SSH_PASSWORD: "pw-secret-1", SSH_KEY_PASSPHRASE: "pp-2" },
      /^SSH_KEY_PASSPHRASE: is set but SSH_KEY_PATH is not/,
    ],
    [
      { SSH_HOST: "h", SSH_USER: "u", SSH_PASSWORD: "pw-secret-1", SSH_HOST_KEY_SHA256: "abc" },
      /^SSH_HOST_KEY_SHA256: "abc" is not an OpenSSH SHA256 fingerprint/,
    ],
  ];
  for (const [vars, expected] of cases) {
    const specs = specsOf(vars);
    assert.equal(specs.length, 1);
    assert.equal(specs[0].ok, false);
    assert.match(unitError(specs[0]), expected);
    assert.doesNotMatch(unitError(specs[0]), /pw-secret-1|pp-2/);
    assert.equal(specs[0].targets.length, 1);
  }
  assert.deepEqual(
    specsOf({ SSH_HOST: "h", SSH_PORT: "2200" }).map((s) => s.targets),
    [["h:2200"]],
  );
});

Deno.test("ssh fingerprints a host key blob the way ssh-keygen -lf does", () => {
  // The blob of an ed25519 key: string "ssh-ed25519", string <32 bytes>.
  const name = new TextEncoder().encode("ssh-ed25519");
  const blob = new Uint8Array(4 + name.length + 4 + 32);
  const view = new DataView(blob.buffer);
  view.setUint32(0, name.length);
  blob.set(name, 4);
  view.setUint32(4 + name.length, 32);
  const info = describeHostKey(blob);
  assert.equal(info.type, "ssh-ed25519");
  assert.match(info.sha256, /^SHA256:[A-Za-z0-9+/]{43}$/);
  assert.equal(describeHostKey(new Uint8Array([1, 2])).type, "unknown");
  assert.deepEqual(parsePins(`sha256:${"x".repeat(43)}`), [`SHA256:${"x".repeat(43)}`]);
  assert.throws(() => parsePins(`SHA256:${"x".repeat(42)}`), /not an OpenSSH SHA256/);
});

Deno.test("ssh reports refused for a closed port", async () => {
  const timed = await runOnce(
    passwordTarget(closedPort()),
  );
  assertFailed(timed, "refused", /refused/);
  assert.equal(timed.result.details?.phase, "connect");
  assertWithin(timed, 5000 + MARGIN_MS);
});

Deno.test("ssh reports dns for a host name that does not resolve", async () => {
  const timed = await runOnce(
    configOf({ SSH_HOST: UNRESOLVABLE_HOST, SSH_USER: "u", SSH_PASSWORD: "p" }),
  );
  assertFailed(timed, "dns", /not resolved/);
  assertWithin(timed, 5000 + MARGIN_MS);
});

Deno.test("ssh reports timeout at the deadline for a server that accepts and never speaks", async () => {
  const listener = holdingListener();
  try {
    const timed = await runOnce(
      passwordTarget(listener.port),
      500,
    );
    assertTimedOut(timed, 500);
    assert.match(timed.result.message ?? "", /no SSH banner/);
    assert.equal(timed.result.details?.phase, "handshake");
    assert.equal(listener.accepted(), 1);
    assert.ok(await listener.clientClosed(0), "the check left its connection open");
  } finally {
    await listener.close();
  }
});

Deno.test("ssh reports timeout at the deadline for a server that stalls after its banner", async () => {
  const listener = holdingListener("SSH-2.0-OpenSSH_9.2p1 Stalled\r\n");
  try {
    const timed = await runOnce(
      passwordTarget(listener.port),
      500,
    );
    assertTimedOut(timed, 500);
    assert.match(timed.result.message ?? "", /stalled during the SSH key exchange/);
    assert.equal(timed.result.details?.server_ident, "SSH-2.0-OpenSSH_9.2p1 Stalled");
    assert.ok(await listener.clientClosed(0), "the check left its connection open");
  } finally {
    await listener.close();
  }
});

Deno.test("ssh reports protocol for an HTTP server on the port", async () => {
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    () => new Response("hello"),
  );
  try {
    const timed = await runOnce(
      passwordTarget(server.addr.port),
    );
    assertFailed(timed, "protocol", /not an SSH server|without sending an SSH banner/);
    assert.equal(timed.result.details?.server_ident, undefined);
    assertWithin(timed, 5000);
  } finally {
    await server.shutdown();
  }
});

Deno.test("ssh reports protocol at once, not at the deadline, for a non-SSH server that keeps the connection", async (t) => {
  const greetings: [string, string, RegExp][] = [
    [
      "an HTTP error that keeps the connection open",
      "HTTP/1.1 400 Bad Request\r\nServer: nginx\r\nContent-Length: 0\r\n\r\n",
      /answered "HTTP\/1\.1 400 Bad Request"/,
    ],
    [
      "a binary greeting (a MariaDB server)",
      "\x56\x00\x00\x00\x0a5.5.5-10.11.6-MariaDB-0+deb12u1\x00\x05\x00\x00\x00",
      /sent \d+ bytes of binary data/,
    ],
  ];
  for (const [what, greeting, message] of greetings) {
    await t.step(what, async () => {
      const listener = holdingListener(greeting);
      try {
        const timed = await runOnce(
          passwordTarget(listener.port),
          2000,
        );
        assertFailed(timed, "protocol", message);
        assertWithin(timed, 1000);
        assert.ok(await listener.clientClosed(0), "the check left its connection open");
      } finally {
        await listener.close();
      }
    });
  }
});

Deno.test("ssh reports config, before connecting, for a key file that does not exist", async () => {
  const timed = await runOnce(
    configOf({
      SSH_HOST: "127.0.0.1",
      SSH_PORT: String(closedPort()),
      SSH_USER: "u",
      SSH_KEY_PATH: "/nonexistent/kozak/id_ed25519",
    }),
  );
  assertFailed(timed, "config", /SSH_KEY_PATH "\/nonexistent\/kozak\/id_ed25519" does not exist/);
  assertWithin(timed, 5000);
});

Deno.test({
  name: "ssh against a real OpenSSH server",
  ignore: skipUnlessAvailable(SSHD),
  fn: async (t) => {
    const server: SshdServer = await startSshd();
    const results: CheckResult[] = [];
    const base = { SSH_HOST: "127.0.0.1", SSH_PORT: String(server.port), SSH_USER: server.user };
    const check = async (vars: Record<string, string>, memory?: Map<string, unknown>) => {
      const timed = await runOnce(configOf({ ...base, ...vars }), 5000, memory);
      results.push(timed.result);
      return timed;
    };
    const assertLoggedIn = (timed: Timed, method: string) => {
      const { result } = timed;
      assert.equal(result.status, "ok", JSON.stringify(result));
      assert.equal(result.reason, undefined);
      const d = result.details ?? {};
      assert.equal(d.auth_method, method);
      assert.match(String(d.server_ident), /^SSH-2\.0-OpenSSH_/);
      assert.equal(d.host_key_type, "ssh-ed25519");
      assert.equal(d.host_key_sha256, server.hostKeySha256);
      for (const field of ["connect_ms", "handshake_ms", "auth_ms"]) {
        assert.equal(typeof d[field], "number", field);
      }
      assertWithin(timed, 5000);
    };
    try {
      await t.step("password ok", async () => {
        const timed = await check({ SSH_PASSWORD: server.password });
        assertLoggedIn(timed, "password");
        const d = timed.result.details!;
        console.log(
          `  password login took ${
            timed.elapsedMs.toFixed(1)
          } ms (connect ${d.connect_ms}, handshake ${d.handshake_ms}, auth ${d.auth_ms} ms)`,
        );
      });

      await t.step("key ok", async () => {
        const timed = await check({ SSH_KEY_PATH: server.keys.plain });
        assertLoggedIn(timed, "publickey");
        assert.deepEqual(timed.result.details?.auth_methods, ["publickey", "password"]);
        console.log(`  key login took ${timed.elapsedMs.toFixed(1)} ms`);
      });

      await t.step("encrypted key with its passphrase ok, decrypted once per key", async () => {
        const memory = new Map<string, unknown>();
        const vars = { SSH_KEY_PATH: server.keys.encrypted, SSH_KEY_PASSPHRASE: server.passphrase };
        const first = await check(vars, memory);
        assertLoggedIn(first, "publickey");
        assert.equal(memory.size, 1);
        const second = await check(vars, memory);
        assertLoggedIn(second, "publickey");
        console.log(
          `  encrypted key login took ${first.elapsedMs.toFixed(1)} ms, then ${
            second.elapsedMs.toFixed(1)
          } ms`,
        );
      });

      await t.step("encrypted key without the passphrase is a config error", async () => {
        const timed = await check({ SSH_KEY_PATH: server.keys.encrypted });
        assertFailed(timed, "config", /is encrypted and SSH_KEY_PASSPHRASE is not set/);
        assertWithin(timed, 5000);
      });

      await t.step("encrypted key with a wrong passphrase is a config error", async () => {
        const timed = await check({
          SSH_KEY_PATH: server.keys.encrypted,
          SSH_KEY_PASSPHRASE: "not the passphrase",
        });
        assertFailed(timed, "config", /cannot be decrypted with SSH_KEY_PASSPHRASE/);
        assertWithin(timed, 5000);
      });

      await t.step("a public key file in SSH_KEY_PATH is a config error", async () => {
        const timed = await check({ SSH_KEY_PATH: `${server.keys.plain}.pub` });
        assertFailed(timed, "config", /holds a public key/);
        assertWithin(timed, 5000);
      });

      await t.step("wrong password is auth, with the methods the server offers", async () => {
        const timed = await check({ SSH_PASSWORD: `${server.password}-wrong` });
        assertFailed(timed, "auth", /rejected kozak_ssh_test's password/);
        assert.deepEqual(timed.result.details?.auth_methods, ["publickey", "password"]);
        assert.equal(timed.result.details?.host_key_sha256, server.hostKeySha256);
        assertWithin(timed, 5000);
      });

      await t.step("wrong key is auth", async () => {
        const timed = await check({ SSH_KEY_PATH: server.keys.unauthorized });
        assertFailed(timed, "auth", /rejected kozak_ssh_test's publickey/);
        assert.deepEqual(timed.result.details?.auth_methods, ["publickey", "password"]);
        assertWithin(timed, 5000);
      });

      await t.step("a wrong key falls back to the password when both are set", async () => {
        const timed = await check({
          SSH_KEY_PATH: server.keys.unauthorized,
          SSH_PASSWORD: server.password,
        });
        assertLoggedIn(timed, "password");
      });

      await t.step("pinned host key that matches is ok", async () => {
        const timed = await check({
          SSH_PASSWORD: server.password,
          SSH_HOST_KEY_SHA256: server.hostKeySha256,
        });
        assertLoggedIn(timed, "password");
      });

      await t.step(
        "pinned host key that differs is host_key, and no credentials are sent",
        async () => {
          const logged = server.log.length;
          const other = `SHA256:${"A".repeat(43)}`;
          const timed = await check({ SSH_PASSWORD: server.password, SSH_HOST_KEY_SHA256: other });
          assertFailed(timed, "host_key", /not the pinned SSH_HOST_KEY_SHA256/);
          assert.equal(timed.result.details?.host_key_sha256, server.hostKeySha256);
          assert.equal(timed.result.details?.auth_method, undefined);
          assertWithin(timed, 5000);
          // sshd logs the end of that connection; nothing about a login may precede it.
          const deadline = performance.now() + 3000;
          while (
            !server.log.slice(logged).some((l) => /Disconnected from|Connection closed/.test(l))
          ) {
            assert.ok(performance.now() < deadline, `sshd did not log the disconnect`);
            await new Promise((r) => setTimeout(r, 20));
          }
          const lines = server.log.slice(logged);
          assert.ok(
            !lines.some((l) => /password|publickey|Accepted|Failed|Postponed/.test(l)),
            lines.join("\n"),
          );
        },
      );

      await t.step("runs with exactly the permissions needs() declares", async () => {
        const vars = { ...base, SSH_KEY_PATH: server.keys.plain };
        const needs = ssh.needs(configOf(vars));
        const out = await new Deno.Command("deno", {
          args: [
            "run",
            "--no-prompt",
            `--allow-net=${needs.net!.join(",")}`,
            `--allow-read=${needs.read!.join(",")}`,
            "tests/fixtures/ssh/run_once.ts",
            JSON.stringify(vars),
          ],
          cwd: ROOT,
          stdout: "piped",
          stderr: "piped",
        }).output();
        const stdout = new TextDecoder().decode(out.stdout);
        const stderr = new TextDecoder().decode(out.stderr);
        assert.ok(out.success, stderr);
        const result: CheckResult = JSON.parse(stdout.trim().split("\n").pop()!);
        results.push(result);
        assert.equal(result.status, "ok", stdout + stderr);
        assert.equal(result.details?.auth_method, "publickey");
        assert.doesNotMatch(stderr, /NotCapable|Requires .* access/);
      });

      await t.step("sshd saw every connection of these checks end", async () => {
        const ports = server.log
          .map((l) => /^Connection from 127\.0\.0\.1 port (\d+) /.exec(l)?.[1])
          .filter((p): p is string => p !== undefined);
        assert.ok(ports.length >= 9, `sshd logged ${ports.length} connections`);
        const ended = (port: string) =>
          server.log.some((l) =>
            /Disconnected from|Connection closed by|Connection reset by/.test(l) &&
            l.includes(` port ${port}`)
          );
        const deadline = performance.now() + 3000;
        while (!ports.every(ended)) {
          const open = ports.filter((p) => !ended(p));
          assert.ok(performance.now() < deadline, `still open for sshd: ${open.join(", ")}`);
          await new Promise((r) => setTimeout(r, 20));
        }
      });

      await t.step("no result holds the password, the passphrase or key material", () => {
        const keyLines = [server.keys.plain, server.keys.encrypted, server.keys.unauthorized]
          .flatMap((path) => Deno.readTextFileSync(path).split("\n"))
          .filter((line) => line.length >= 20 && !line.startsWith("-----"));
        assert.ok(keyLines.length > 0);
        assert.ok(results.length >= 12);
        const text = JSON.stringify(results);
        assert.ok(!text.includes(server.password), "a result holds the password");
        assert.ok(!text.includes(server.passphrase), "a result holds the passphrase");
        for (const line of keyLines) assert.ok(!text.includes(line), "a result holds key material");
      });
    } finally {
      await server.stop();
    }
  },
});
