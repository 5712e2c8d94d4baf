/**
 * The module passes ssh2's and the server's text on as it is; the agent's one
 * redaction point (src/redact.ts, fed with the options the module declares
 * secret) is what keeps a quoted password or passphrase out of every event.
 */

import assert from "node:assert/strict";
import type { Details } from "../../src/check.ts";
import { secretVariables } from "../../src/config_modules.ts";
import { REDACTED } from "../../src/redact.ts";
import { agentRedactor } from "../../tests/support/module_secrets.ts";
import { sshConfig } from "../../tests/support/ssh_check.ts";
import { ssh } from "./mod.ts";
import { judge, newAttempt } from "./verdict.ts";

Deno.test("secrets a server quotes when it ends the login are gone once the result passes the agent's redactor", () => {
  const password = `pw-${crypto.randomUUID().slice(0, 8)}`;
  const passphrase = `pp ${crypto.randomUUID().slice(0, 8)}`;
  const env: Record<string, string> = {
    SSH_HOST: "127.0.0.1",
    SSH_USER: "monitor",
    SSH_KEY_PATH: "/etc/kozak/id_ed25519",
    SSH_KEY_PASSPHRASE: passphrase,
    SSH_PASSWORD: password,
  };
  const config = sshConfig(env);
  // A server that disconnects during the login with a text quoting what it was sent.
  const ident = new TextEncoder().encode("SSH-2.0-Odd_1.0\r\n");
  const attempt = newAttempt({ bytesReceived: () => ident.length, firstBytes: () => ident });
  attempt.handshakeAt = performance.now();
  attempt.tried = ["publickey", "password"];
  attempt.errors.push(Object.assign(
    new Error(`too many failures: key "${passphrase}", password "${password}"`),
    { code: 2 },
  ));
  const details: Details = { user: "monitor" };
  const result = judge(config, attempt, new AbortController().signal, details);
  assert.equal(result.reason, "auth");
  // The module itself does not scrub: the server's text arrives whole.
  assert.ok(result.message?.includes(password) && result.message.includes(passphrase));

  // The agent redacts what the module declares secret, as config resolution collects it.
  assert.deepEqual(secretVariables(ssh), ["SSH_KEY_PASSPHRASE", "SSH_PASSWORD"]);
  const event = agentRedactor(ssh, env).event(result);
  const text = JSON.stringify(event);
  assert.ok(!text.includes(password) && !text.includes(passphrase), text);
  assert.equal(
    event.message,
    `127.0.0.1:22 ended the login: too many failures: key "${REDACTED}", password "${REDACTED}"`,
  );
});

Deno.test("a quoted secret stays whole for the redactor: long texts are not cut, other characters not replaced", () => {
  // Non-ASCII and a tab, quoted past the point where a cut for length would fall.
  const password = `pä\tss-${crypto.randomUUID().slice(0, 8)}`;
  const env: Record<string, string> = {
    SSH_HOST: "127.0.0.1",
    SSH_USER: "monitor",
    SSH_PASSWORD: password,
  };
  const ident = new TextEncoder().encode("SSH-2.0-Odd_1.0\r\n");
  const attempt = newAttempt({ bytesReceived: () => ident.length, firstBytes: () => ident });
  attempt.handshakeAt = performance.now();
  attempt.tried = ["password"];
  const filler = "x".repeat(110);
  attempt.errors.push(Object.assign(new Error(`${filler} "${password}" ${filler}`), { code: 2 }));
  const result = judge(sshConfig(env), attempt, new AbortController().signal, {});
  const event = agentRedactor(ssh, env).event(result);
  assert.equal(event.message, `127.0.0.1:22 ended the login: ${filler} "${REDACTED}" ${filler}`);
  assert.ok(!JSON.stringify(event).includes("pä"), JSON.stringify(event));
});
