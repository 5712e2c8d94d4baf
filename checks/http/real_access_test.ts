/**
 * The http check's permissions against a real nginx: a run in a process of
 * its own with exactly what needs() asks for succeeds (the name lookup, the
 * TLS connection, the CA file), and with less it says permission.
 */

import assert from "node:assert/strict";
import type { CheckModule, CheckResult } from "../../src/check.ts";
import { moduleEnvNames } from "../../src/config_modules.ts";
import { skipUnlessAvailable } from "../../tests/support/binaries.ts";
import { assertVerdict, httpConfig } from "../../tests/support/http_check.ts";
import { startHttpNginx } from "../../tests/support/http_nginx.ts";
import { NGINX_BINARY } from "../../tests/support/nginx_server.ts";
import { OPENSSL_BINARY } from "../../tests/support/pki.ts";
import { ROOT } from "../../tests/support/processes.ts";
import { http } from "./mod.ts";

const ignore = skipUnlessAvailable(NGINX_BINARY) || skipUnlessAvailable(OPENSSL_BINARY);

/** One run in a process of its own with exactly these grants. */
async function runAlone(env: Record<string, string>, allowNet: string, allowRead: string) {
  // What deno itself needs to find its cache; the module's variables come on top.
  const deno: Record<string, string> = {};
  for (const name of ["PATH", "HOME", "DENO_DIR", "XDG_CACHE_HOME"]) {
    const value = Deno.env.get(name);
    if (value !== undefined) deno[name] = value;
  }
  const output = await new Deno.Command("deno", {
    args: [
      "run",
      "--no-prompt",
      `--allow-env=${moduleEnvNames(http as CheckModule<unknown>).join(",")}`,
      `--allow-net=${allowNet}`,
      ...(allowRead ? [`--allow-read=${allowRead}`] : []),
      "tests/support/http_run_once.ts",
    ],
    cwd: ROOT,
    env: { ...deno, ...env, NO_COLOR: "1" },
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.ok(output.success, new TextDecoder().decode(output.stderr));
  return JSON.parse(new TextDecoder().decode(output.stdout)) as CheckResult;
}

Deno.test({
  name: "http against a real nginx: needs() is exactly enough, less is permission",
  ignore,
}, async () => {
  const nginx = await startHttpNginx();
  try {
    const env = {
      HTTP_URL: nginx.tlsUrl("good", "/", "localhost"),
      HTTP_CA_FILE: nginx.pki.caCert,
    };
    const needs = http.needs(httpConfig(env));
    assert.deepEqual(needs, { net: ["localhost"], read: [nginx.pki.caCert] });
    const granted = await runAlone(env, needs.net!.join(","), needs.read!.join(","));
    assertVerdict(granted, "ok");
    assert.equal(typeof granted.details?.dns_ms, "number");
    // host:port alone does not let Deno look the name up: that is why needs() grants the host.
    const portOnly = await runAlone(env, `localhost:${nginx.tlsPorts.good}`, needs.read!.join(","));
    assertVerdict(
      portOnly,
      "error",
      "permission",
      /^cannot resolve localhost: the agent lacks the network permission/,
      "dns",
    );
    const noCa = await runAlone(env, needs.net!.join(","), "");
    assertVerdict(noCa, "error", "permission", /^cannot read HTTP_CA_FILE /, "tls");
  } finally {
    await nginx.stop();
  }
});
