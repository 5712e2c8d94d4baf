import assert from "node:assert/strict";
import fc from "fast-check";
import {
  boolean,
  ConfigValueError,
  echo,
  hostPort,
  integer,
  MAX_ECHO,
  oneOf,
  parseHost,
  parseHostPort,
  port,
  seconds,
} from "./config_values.ts";

const env = (vars: Record<string, string>) => (name: string) => vars[name];

Deno.test("parseHost accepts host names, IPv4 and IPv6 addresses, and strips IPv6 brackets", () => {
  const cases: Array<[string, string]> = [
    ["db.internal", "db.internal"],
    ["my_db", "my_db"],
    ["host.", "host."],
    ["xn--bcher-kva.example", "xn--bcher-kva.example"],
    ["127.0.0.1", "127.0.0.1"],
    ["::1", "::1"],
    ["[::1]", "::1"],
    ["[fe80::1]", "fe80::1"],
    ["[::ffff:127.0.0.1]", "::ffff:127.0.0.1"],
  ];
  for (const [raw, host] of cases) assert.equal(parseHost(raw), host, raw);
});

Deno.test("parseHost refuses what is not a host, and says why", () => {
  const cases: Array<[string, RegExp]> = [
    [":80", /holds a port/],
    ["db:5432", /holds a port/],
    ["a:b:c", /not a host name or IP address/],
    ["[a:b:c]", /not a valid IPv6 address/],
    ["-x", /starts with "-"/],
    ["a b", /space/],
    ["a\tb", /space or a control character/],
    ["1.2.3.999", /not a valid IPv4 address/],
    ["1.2.3", /not a valid IPv4 address/],
    ["http://db", /is a URL/],
    ["a..b", /not a valid host name/],
    [`${"a".repeat(254)}`, /not a valid host name/],
    ["a-", /not a valid host name/],
    ["", /empty/],
  ];
  for (const [raw, pattern] of cases) {
    assert.throws(() => parseHost(raw), pattern, JSON.stringify(raw));
  }
});

Deno.test("parseHost quotes at most MAX_ECHO characters of a bad value", () => {
  const long = "x y".repeat(40_000);
  assert.throws(() => parseHost(long), (error: Error) => {
    assert.ok(error.message.length < MAX_ECHO + 100, error.message.slice(0, 200));
    assert.match(error.message, /120000 characters/);
    return true;
  });
});

Deno.test("parseHostPort takes ports 1 and 65535 and refuses 0 and 65536", () => {
  assert.deepEqual(parseHostPort("h:1"), { host: "h", port: 1 });
  assert.deepEqual(parseHostPort("[::1]:65535"), { host: "::1", port: 65535 });
  assert.throws(() => parseHostPort("h:0"), /port must be from 1 to 65535/);
  assert.throws(() => parseHostPort("h:65536"), /port must be from 1 to 65535/);
});

Deno.test("parseHostPort gives hints that fit the mistake", () => {
  assert.throws(() => parseHostPort("http://example.com:80"), /is a URL: write host:port/);
  assert.throws(() => parseHostPort("::1:80"), /write IPv6 addresses in brackets/);
  assert.throws(() => parseHostPort("example.com"), /the port is missing/);
  assert.throws(() => parseHostPort("[a:b:c]:22"), /not a valid IPv6 address/);
});

Deno.test("port() takes 1 and 65535 and refuses 0, 65536 and words", () => {
  assert.equal(port(env({ P: "1" }), "P", 9), 1);
  assert.equal(port(env({ P: "65535" }), "P", 9), 65535);
  assert.equal(port(env({}), "P", 9), 9);
  for (const bad of ["0", "65536", "x", "-1", "1.5"]) {
    assert.throws(() => port(env({ P: bad }), "P", 9), ConfigValueError, bad);
  }
});

Deno.test("oneOf() ignores the case of the value and returns the canonical word", () => {
  assert.equal(oneOf(env({ L: "DEBUG" }), "L", ["debug", "info"], "info"), "debug");
  assert.equal(oneOf(env({ L: "Info" }), "L", ["debug", "info"], "debug"), "info");
  assert.throws(() => oneOf(env({ L: "loud" }), "L", ["debug", "info"], "info"), /debug, info/);
});

Deno.test("boolean() takes the usual spellings and refuses others", () => {
  for (const word of ["true", "TRUE", "yes", "Yes", "on", "1"]) {
    assert.equal(boolean(env({ B: word }), "B", false), true, word);
  }
  for (const word of ["false", "no", "OFF", "0"]) {
    assert.equal(boolean(env({ B: word }), "B", true), false, word);
  }
  assert.equal(boolean(env({}), "B", true), true);
  assert.throws(() => boolean(env({ B: "maybe" }), "B", true), /yes\/no/);
});

Deno.test("seconds() and integer() name the variable and cut a long bad value", () => {
  const long = "9".repeat(100_000) + "x";
  for (
    const parse of [
      () => seconds(env({ S: long }), "S", 1, { min: 0.1, max: 10 }),
      () => integer(env({ S: long }), "S", 1, 1, 10),
    ]
  ) {
    assert.throws(parse, (error: ConfigValueError) => {
      assert.equal(error.variable, "S");
      assert.ok(error.message.length < 300, `${error.message.length} characters`);
      return true;
    });
  }
});

Deno.test("echo() quotes short values whole and cuts long ones", () => {
  assert.equal(echo("ab"), '"ab"');
  const cut = echo("z".repeat(1000));
  assert.ok(cut.startsWith(`"${"z".repeat(MAX_ECHO)}"…`));
  assert.match(cut, /1000 characters/);
});

/** Every host parseHost accepts must be an `--allow-net` entry Deno takes. */
Deno.test("every host parseHost accepts is a valid --allow-net entry for Deno", async () => {
  const accepted = new Set<string>(["db.internal", "my_db", "::1", "fe80::1", "host."]);
  const alphabet = fc.constantFrom(..."ab9_-.:[] \t@/%".split(""));
  fc.assert(
    fc.property(fc.string({ unit: alphabet, maxLength: 12 }), (raw) => {
      try {
        accepted.add(parseHost(raw));
      } catch (error) {
        assert.ok(error instanceof Error && error.message.length > 0);
      }
    }),
    { numRuns: 3000, seed: 11 },
  );
  assert.ok(accepted.size > 20, `only ${accepted.size} hosts accepted`);
  const entries = [...accepted].map((h) => hostPort(h, 1)).join(",");
  // An empty module: Deno parses the flag at start and refuses a bad entry there.
  const run = await new Deno.Command("deno", {
    args: ["run", "--no-config", `--allow-net=${entries}`, "data:text/javascript,"],
    stdout: "null",
    stderr: "piped",
  }).output();
  assert.equal(run.code, 0, new TextDecoder().decode(run.stderr));
});
