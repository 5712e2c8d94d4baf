/** The ssh check against a real OpenSSH server started for this file (tests/support/sshd_server.ts). */

import assert from "node:assert/strict";
import type { CheckResult } from "../../src/check.ts";
import { skipUnlessAvailable } from "../../tests/support/binaries.ts";
import { ROOT } from "../../tests/support/processes.ts";
import {
  assertFailed,
  assertWithin,
  runSsh as runOnce,
  sshConfig as configOf,
  type Timed,
} from "../../tests/support/ssh_check.ts";
import { SSHD, type SshdServer, startSshd } from "../../tests/support/sshd_server.ts";
import { ssh } from "./mod.ts";

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
        assert.equal(timed.result.details?.phase, "key");
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
        assertFailed(timed, "auth");
        assert.equal(
          timed.result.message,
          `127.0.0.1:${server.port} rejected ${server.user}'s password (it offers publickey, password)`,
        );
        assert.equal(timed.result.details?.phase, "auth");
        assert.deepEqual(timed.result.details?.auth_methods, ["publickey", "password"]);
        assert.equal(timed.result.details?.host_key_sha256, server.hostKeySha256);
        assertWithin(timed, 5000);
      });

      await t.step("wrong key is auth", async () => {
        const timed = await check({ SSH_KEY_PATH: server.keys.unauthorized });
        assertFailed(timed, "auth");
        assert.match(
          timed.result.message ?? "",
          new RegExp(`rejected ${server.user}'s publickey `),
        );
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
          assert.equal(timed.result.details?.phase, "handshake");
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

function accountExists(user: string): boolean {
  return Deno.readTextFileSync("/etc/passwd").split("\n").some((l) => l.startsWith(`${user}:`));
}

Deno.test({
  name: "two OpenSSH test servers at once each have an account of their own, deleted on stop",
  ignore: skipUnlessAvailable(SSHD),
  fn: async () => {
    // As two test runs on one host do (other worktrees, CI jobs): neither may break the other.
    const servers = await Promise.all([startSshd(), startSshd()]);
    try {
      const [a, b] = servers;
      assert.notEqual(a.user, b.user);
      for (const server of servers) {
        assert.match(server.user, /^kozak_ssh_[0-9a-f]{8}$/);
        assert.ok(accountExists(server.user), `${server.user} is not in /etc/passwd`);
        const timed = await runOnce(configOf({
          SSH_HOST: "127.0.0.1",
          SSH_PORT: String(server.port),
          SSH_USER: server.user,
          SSH_PASSWORD: server.password,
        }));
        assert.equal(timed.result.status, "ok", JSON.stringify(timed.result));
      }
    } finally {
      await Promise.all(servers.map((s) => s.stop()));
    }
    for (const server of servers) {
      assert.ok(!accountExists(server.user), `${server.user} was left behind`);
    }
  },
});
