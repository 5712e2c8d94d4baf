import assert from "node:assert/strict";
import { moduleEnvNames, secretVariables } from "../../src/config_modules.ts";
import { agentRedactor } from "../../tests/support/module_secrets.ts";
import { assertNoSecret, configOf, envReader } from "../../tests/support/postgres_check.ts";
import { unitConfig, unitError } from "../../tests/support/specs.ts";
import { postgres as postgresCheck } from "./mod.ts";

Deno.test("postgres parses its variables with defaults and needs only the target's host:port", () => {
  const [spec] = postgresCheck.parse(envReader({
    POSTGRES_HOST: "db.internal",
    POSTGRES_USER: "monitor",
    POSTGRES_PASSWORD: " spaced pw ",
  }));
  assert.deepEqual(unitConfig(spec), {
    host: "db.internal",
    port: 5432,
    user: "monitor",
    password: " spaced pw ",
    database: "postgres",
    sslMode: "prefer",
    warnConnectionsPct: 90,
    address: "db.internal:5432",
    target: "db.internal:5432/postgres",
  });
  assert.deepEqual(spec.targets, ["db.internal:5432/postgres"]);
  assert.deepEqual(postgresCheck.needs(unitConfig(spec)), {
    net: ["db.internal:5432"],
    env: ["PG*"],
  });
  assert.deepEqual(postgresCheck.secrets!(unitConfig(spec)), [" spaced pw "]);
  assert.deepEqual(secretVariables(postgresCheck), ["POSTGRES_PASSWORD"]);
  assert.equal(postgresCheck.name, "postgres");
});

Deno.test("postgres writes IPv6 hosts in brackets and reads the root certificate file only when set", () => {
  for (const host of ["::1", "[::1]"]) {
    const config = configOf({
      POSTGRES_HOST: host,
      POSTGRES_PORT: "6543",
      POSTGRES_USER: "monitor",
      POSTGRES_DB: "app",
      POSTGRES_SSLMODE: "verify-full",
      POSTGRES_SSLROOTCERT: "/etc/ssl/db-ca.pem",
      POSTGRES_WARN_CONNECTIONS_PCT: "75",
    });
    assert.equal(config.host, "::1");
    assert.equal(config.target, "[::1]:6543/app");
    assert.equal(config.password, undefined);
    assert.equal(config.warnConnectionsPct, 75);
    assert.deepEqual(postgresCheck.needs(config), {
      net: ["[::1]:6543"],
      env: ["PG*"],
      read: ["/etc/ssl/db-ca.pem"],
    });
  }
});

Deno.test("postgres turns each bad value into a config error that names the variable and hides the password", () => {
  const good = {
    POSTGRES_HOST: "db",
    POSTGRES_USER: "monitor",
    POSTGRES_PASSWORD: "pw-in-config-test",
  };
  const cases: [Record<string, string>, RegExp][] = [
    [{ POSTGRES_HOST: "" }, /^POSTGRES_HOST: is required/],
    [{ POSTGRES_USER: " " }, /^POSTGRES_USER: is required/],
    [{ POSTGRES_PORT: "70000" }, /^POSTGRES_PORT: must be a port/],
    [{ POSTGRES_PORT: "5432x" }, /^POSTGRES_PORT: /],
    [{ POSTGRES_HOST: "bad host" }, /^POSTGRES_HOST: .* holds a space/],
    [{ POSTGRES_HOST: "bad!host" }, /^POSTGRES_HOST: .* not a valid host name/],
    [{ POSTGRES_HOST: "::1::2::" }, /^POSTGRES_HOST: .* not a host name or IP address/],
    [{ POSTGRES_SSLMODE: "verify-ca" }, /^POSTGRES_SSLMODE: must be one of disable, prefer/],
    [{ POSTGRES_WARN_CONNECTIONS_PCT: "0" }, /^POSTGRES_WARN_CONNECTIONS_PCT: .*1 to 100/],
    [{ POSTGRES_WARN_CONNECTIONS_PCT: "95.5" }, /^POSTGRES_WARN_CONNECTIONS_PCT: /],
    [{ POSTGRES_SSLROOTCERT: "/ca.pem" }, /^POSTGRES_SSLROOTCERT: is only used with .*verify-full/],
  ];
  for (const [override, expected] of cases) {
    const specs = postgresCheck.parse(envReader({ ...good, ...override }));
    assert.equal(specs.length, 1);
    assert.equal(specs[0].ok, false);
    assert.match(unitError(specs[0]), expected, JSON.stringify(override));
    assert.equal(specs[0].targets.length, 1);
    assertNoSecret(specs[0], good.POSTGRES_PASSWORD);
  }
  const [unset] = postgresCheck.parse(() => undefined);
  assert.match(unitError(unset), /^POSTGRES_HOST: is required/);
  assert.deepEqual(unset.targets, ["postgres"]);
});

Deno.test("postgres reads no variable besides the ones it declares", () => {
  const asked = new Set<string>();
  postgresCheck.parse((name) => {
    asked.add(name);
    return { POSTGRES_HOST: "db", POSTGRES_USER: "u" }[name];
  });
  for (const name of asked) {
    assert.ok(moduleEnvNames(postgresCheck).includes(name), `reads ${name}`);
  }
  assert.ok(asked.has("POSTGRES_SSLMODE") && asked.has("POSTGRES_WARN_CONNECTIONS_PCT"));
});

Deno.test("postgres's password reaches the central redactor in every form a driver may quote it", () => {
  // The module no longer scrubs its own messages: the agent's one redactor,
  // fed with what the configuration declares secret, must catch the password.
  const password = 'p@ss/wörd "x"';
  const redactor = agentRedactor(postgresCheck, {
    POSTGRES_HOST: "db",
    POSTGRES_USER: "u",
    POSTGRES_PASSWORD: password,
  });
  const leaky = {
    target: "db:5432/postgres",
    status: "error",
    reason: "auth",
    message: `login failed for ${password} (postgres://u:${encodeURIComponent(password)}@db/)`,
    details: { driver: JSON.stringify({ password }) },
  };
  const escaped = (text: string) => JSON.stringify(text).slice(1, -1);
  // as written, URL-encoded, JSON-escaped, and JSON-escaped twice (a JSON text inside details)
  const forms = [
    password,
    encodeURIComponent(password),
    escaped(password),
    escaped(escaped(password)),
  ];
  assertNoSecret(redactor.json(leaky), ...forms);
  assert.match(redactor.event(leaky).message, /^login failed for \[REDACTED\]/);
});
