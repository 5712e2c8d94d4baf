import assert from "node:assert/strict";
import { moduleEnvNames, secretVariables } from "../../src/config_modules.ts";
import { mysqlConfig as configOf, mysqlSpecs as specs } from "../../tests/support/mysql_check.ts";
import { unitError } from "../../tests/support/specs.ts";
import { mysql } from "./mod.ts";

Deno.test("mysql parses its variables with the documented defaults", () => {
  const config = configOf({ MYSQL_HOST: "db.local", MYSQL_USER: "monitor" });
  assert.deepEqual(config, {
    host: "db.local",
    port: 3306,
    target: "db.local:3306",
    user: "monitor",
    password: "",
    ssl: false,
    warnConnectionsPct: 90,
    connectTimeoutMs: 3_000,
  });
  assert.deepEqual(mysql.needs(config), { net: ["db.local:3306"] });
  assert.deepEqual(secretVariables(mysql), ["MYSQL_PASSWORD"]);
});

Deno.test("mysql takes every variable and writes IPv6 targets in brackets", () => {
  for (const host of ["::1", "[::1]"]) {
    const config = configOf({
      MYSQL_HOST: host,
      MYSQL_PORT: "3307",
      MYSQL_USER: "u",
      MYSQL_PASSWORD: " pw with blanks ",
      MYSQL_DATABASE: "app",
      MYSQL_SSL: "true",
      MYSQL_WARN_CONNECTIONS_PCT: "75",
      MYSQL_CONNECT_TIMEOUT_SECONDS: "1.5",
    });
    assert.equal(config.host, "::1");
    assert.equal(config.target, "[::1]:3307");
    assert.equal(config.password, " pw with blanks ");
    assert.equal(config.database, "app");
    assert.equal(config.ssl, true);
    assert.equal(config.warnConnectionsPct, 75);
    assert.equal(config.connectTimeoutMs, 1_500);
    assert.deepEqual(mysql.needs(config), { net: ["[::1]:3307"] });
  }
});

Deno.test("mysql turns each bad value into a config error naming the variable, never the password", () => {
  const base = { MYSQL_HOST: "127.0.0.1", MYSQL_USER: "u", MYSQL_PASSWORD: "hunter2-secret" };
  const cases: [Record<string, string>, RegExp][] = [
    [{ ...base, MYSQL_HOST: "" }, /^MYSQL_HOST: is required/],
    [{ ...base, MYSQL_USER: " " }, /^MYSQL_USER: is required/],
    [{ ...base, MYSQL_HOST: "bad host" }, /^MYSQL_HOST: /],
    [{ ...base, MYSQL_HOST: "db.local:3306" }, /^MYSQL_HOST: .*port in MYSQL_PORT/],
    [{ ...base, MYSQL_HOST: "[::1" }, /^MYSQL_HOST: /],
    [{ ...base, MYSQL_HOST: "fe80::zz" }, /^MYSQL_HOST: /],
    [{ ...base, MYSQL_PORT: "0" }, /^MYSQL_PORT: /],
    [{ ...base, MYSQL_PORT: "3306x" }, /^MYSQL_PORT: /],
    [{ ...base, MYSQL_SSL: "maybe" }, /^MYSQL_SSL: must be true or false/],
    [{ ...base, MYSQL_HOST: "a:b:c" }, /^MYSQL_HOST: "a:b:c" is not a host name or IP address/],
    [{ ...base, MYSQL_HOST: ":80" }, /^MYSQL_HOST: ":80" holds a port/],
    [{ ...base, MYSQL_WARN_CONNECTIONS_PCT: "0" }, /^MYSQL_WARN_CONNECTIONS_PCT: /],
    [{ ...base, MYSQL_WARN_CONNECTIONS_PCT: "101" }, /^MYSQL_WARN_CONNECTIONS_PCT: /],
    [{ ...base, MYSQL_CONNECT_TIMEOUT_SECONDS: "-1" }, /^MYSQL_CONNECT_TIMEOUT_SECONDS: /],
  ];
  for (const [vars, pattern] of cases) {
    const all = specs(vars);
    assert.equal(all.length, 1);
    assert.equal(all[0].ok, false);
    assert.match(unitError(all[0]), pattern);
    assert.ok(!unitError(all[0]).includes("hunter2-secret"));
    assert.equal(all[0].targets.length, 1);
  }
  assert.deepEqual(specs({ ...base, MYSQL_USER: "" })[0].targets, ["127.0.0.1:3306"]);
});

Deno.test("mysql reads only the variables it lists", () => {
  const read = new Set<string>();
  mysql.parse((name) => {
    read.add(name);
    return { MYSQL_HOST: "h", MYSQL_USER: "u" }[name];
  });
  for (const name of read) {
    assert.ok(moduleEnvNames(mysql).includes(name), `${name} is read but not listed`);
  }
  assert.ok(read.size >= 7);
});
