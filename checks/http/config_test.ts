import assert from "node:assert/strict";
import { resolveConfig } from "../../src/config.ts";
import { agentRedactor } from "../../tests/support/module_secrets.ts";
import { unitConfig, unitError } from "../../tests/support/specs.ts";
import { MODULES } from "../mod.ts";
import { http, type HttpConfig } from "./mod.ts";

function specFor(env: Record<string, string>) {
  return http.parse((name) => env[name]);
}

function configFor(env: Record<string, string>): HttpConfig {
  return unitConfig(specFor(env)[0]);
}

const URL_ONLY = { HTTP_URL: "https://example.com/health" };

Deno.test("http reads only its declared options, once each", () => {
  const read: string[] = [];
  http.parse((name) => {
    read.push(name);
    return name === "HTTP_URL" ? "https://example.com/" : undefined;
  });
  const declared = http.options.map((o) => `HTTP_${o.name.toUpperCase()}`);
  assert.deepEqual([...read].sort(), [...declared].sort());
  assert.deepEqual(http.options.map((o) => o.name), [
    "url",
    "method",
    "expect_status",
    "body_match",
    "max_body_bytes",
    "follow_redirects",
    "ca_file",
    "cert_warn_days",
    "token",
    "headers",
  ]);
  assert.deepEqual(http.options.filter((o) => o.secret).map((o) => o.name), ["token"]);
});

Deno.test("http without HTTP_URL is one config error naming the variable", () => {
  for (const value of [undefined, "", "  "]) {
    const specs = specFor(value === undefined ? {} : { HTTP_URL: value });
    assert.equal(specs.length, 1);
    assert.deepEqual(specs[0].targets, ["HTTP_URL"]);
    assert.match(unitError(specs[0]), /^HTTP_URL is required/);
  }
});

Deno.test("http takes the contract's defaults", () => {
  const config = configFor(URL_ONLY);
  assert.equal(config.url, "https://example.com/health");
  assert.equal(config.method, "GET");
  assert.deepEqual(config.expectStatus, [[200, 299]]);
  assert.equal(config.bodyMatch, undefined);
  assert.equal(config.maxBodyBytes, 1048576);
  assert.equal(config.followRedirects, 0);
  assert.equal(config.caFile, undefined);
  assert.equal(config.certWarnDays, 14);
  assert.equal(config.authorization, undefined);
  assert.deepEqual(config.headers, []);
});

Deno.test("http reads every option", () => {
  const config = configFor({
    HTTP_URL: "https://example.com/",
    HTTP_METHOD: "head",
    HTTP_EXPECT_STATUS: "200, 301-302",
    HTTP_MAX_BODY_BYTES: "0",
    HTTP_FOLLOW_REDIRECTS: "3",
    HTTP_CA_FILE: "/etc/ca.pem",
    HTTP_CERT_WARN_DAYS: "30",
    HTTP_TOKEN: "abc",
    HTTP_HEADERS: "Host: www.example.com, X-Probe: kozak agent",
  });
  assert.equal(config.method, "HEAD");
  assert.deepEqual(config.expectStatus, [[200, 200], [301, 302]]);
  assert.equal(config.maxBodyBytes, 0);
  assert.equal(config.followRedirects, 3);
  assert.equal(config.caFile, "/etc/ca.pem");
  assert.equal(config.certWarnDays, 30);
  assert.equal(config.authorization, "Bearer abc");
  assert.deepEqual(config.headers, [["Host", "www.example.com"], ["X-Probe", "kozak agent"]]);
  const match = configFor({ ...URL_ONLY, HTTP_BODY_MATCH: "/^ok$/m" }).bodyMatch;
  assert.deepEqual(match, { kind: "regex", source: "^ok$", flags: "m" });
  assert.deepEqual(configFor({ ...URL_ONLY, HTTP_BODY_MATCH: " ok " }).bodyMatch, {
    kind: "substring",
    text: " ok ",
  });
});

Deno.test("http turns each bad value into a config error naming its variable, the target kept", () => {
  const cases: [Record<string, string>, RegExp][] = [
    [{ HTTP_METHOD: "POST" }, /^HTTP_METHOD: must be one of get, head, got "POST"$/],
    [{ HTTP_EXPECT_STATUS: "2xx" }, /^HTTP_EXPECT_STATUS: "2xx" is not a status code/],
    [{ HTTP_EXPECT_STATUS: "299-200" }, /^HTTP_EXPECT_STATUS: "299-200": the range runs backwards/],
    [{ HTTP_EXPECT_STATUS: "600" }, /^HTTP_EXPECT_STATUS: "600": status codes run from 100/],
    [
      { HTTP_BODY_MATCH: "/(unclosed/" },
      /^HTTP_BODY_MATCH: "\/\(unclosed\/" is not a valid regular/,
    ],
    [
      { HTTP_BODY_MATCH: "/x/g" },
      /^HTTP_BODY_MATCH: .*flags after the last "\/" may be i, m, s and u/,
    ],
    [{ HTTP_BODY_MATCH: "x", HTTP_MAX_BODY_BYTES: "0" }, /^HTTP_BODY_MATCH: .*reads no body$/],
    [{ HTTP_BODY_MATCH: "x", HTTP_METHOD: "HEAD" }, /^HTTP_BODY_MATCH: .*HEAD has no body$/],
    [
      { HTTP_MAX_BODY_BYTES: "-1" },
      /^HTTP_MAX_BODY_BYTES: must be a whole number from 0 to 67108864/,
    ],
    [
      { HTTP_FOLLOW_REDIRECTS: "21" },
      /^HTTP_FOLLOW_REDIRECTS: must be a whole number from 0 to 20/,
    ],
    [{ HTTP_CERT_WARN_DAYS: "two" }, /^HTTP_CERT_WARN_DAYS: must be a whole number/],
    [{ HTTP_HEADERS: "X-Probe" }, /^HTTP_HEADERS: "X-Probe" is not `Name: value`$/],
    [{ HTTP_HEADERS: "Bad Name: x" }, /^HTTP_HEADERS: "Bad Name: x" is not `Name: value`$/],
    [
      { HTTP_HEADERS: "Authorization: Bearer s3cret" },
      /^HTTP_HEADERS: Authorization is not taken here.*HTTP_TOKEN/,
    ],
    [
      { HTTP_HEADERS: "Content-Length: 5" },
      /^HTTP_HEADERS: Content-Length is written by the check itself$/,
    ],
    [
      { HTTP_URL: "http://example.com/", HTTP_CA_FILE: "/ca.pem" },
      /^HTTP_CA_FILE: is set but HTTP_URL is not https:\/\/$/,
    ],
    [
      { HTTP_URL: "https://u:p@example.com/", HTTP_TOKEN: "t" },
      /^HTTP_TOKEN: is set and HTTP_URL holds credentials too/,
    ],
  ];
  for (const [env, pattern] of cases) {
    const [spec] = specFor({ ...URL_ONLY, ...env });
    const error = unitError(spec);
    assert.match(error, pattern, JSON.stringify(env));
    assert.doesNotMatch(error, /s3cret/);
    assert.deepEqual(spec.targets, [(env.HTTP_URL ?? URL_ONLY.HTTP_URL).replace("u:p@", "")]);
  }
});

Deno.test("http names a bad URL in its config error without quoting its credentials", () => {
  const cases: [string, RegExp, string][] = [
    ["not a url", /^HTTP_URL: is not a valid URL/, "HTTP_URL"],
    [
      "ftp://u:hunter2@example.com/",
      /^HTTP_URL: must start with http:\/\/ or https:\/\//,
      "ftp://***:***@example.com/",
    ],
    [
      "http://u:hunter2@127.0.0.1:70000/",
      /^HTTP_URL: port must be from 1 to 65535, got 70000$/,
      "HTTP_URL",
    ],
    ["http://u:hunter2@exa mple.com/", /^HTTP_URL: is not a valid URL/, "HTTP_URL"],
  ];
  for (const [url, pattern, target] of cases) {
    const [spec] = specFor({ HTTP_URL: url });
    assert.match(unitError(spec), pattern, url);
    assert.deepEqual(spec.targets, [target], url);
    assert.doesNotMatch(JSON.stringify(spec), /hunter2/);
  }
});

Deno.test("http needs the whole host for a name (the lookup asks for it), host:port for an address", () => {
  const cases: [string, string][] = [
    ["https://example.com/health", "example.com"],
    ["http://localhost:8080/", "localhost"],
    ["http://127.0.0.1:8080/", "127.0.0.1:8080"],
    ["https://[::1]/", "[::1]:443"],
  ];
  for (const [url, net] of cases) {
    assert.deepEqual(http.needs(configFor({ HTTP_URL: url })), { net: [net] }, url);
  }
  const withCa = configFor({ ...URL_ONLY, HTTP_CA_FILE: "/etc/kozak/ca.pem" });
  assert.deepEqual(http.needs(withCa), { net: ["example.com"], read: ["/etc/kozak/ca.pem"] });
});

Deno.test("http's credentials, in the URL or as HTTP_TOKEN (also from a file), never reach an event", () => {
  const config = configFor({ HTTP_URL: "https://monitor:p%40ss@example.com/" });
  assert.equal(config.url, "https://example.com/");
  assert.equal(config.authorization, `Basic ${btoa("monitor:p@ss")}`);
  const redactor = agentRedactor(http, { HTTP_URL: "https://monitor:p%40ss@example.com/" });
  const text = redactor.text(`sent ${config.authorization} for p@ss and p%40ss`);
  assert.doesNotMatch(text, /p@ss|p%40ss|bW9uaXRvcjpwQHNz/);
  assert.match(text, /\[REDACTED\]/);

  const result = resolveConfig(
    (name) =>
      ({
        AGENT_ID: "t",
        ENABLED_MODULES: "http",
        HTTP_URL: "https://example.com/",
        HTTP_TOKEN_FILE: "/run/secrets/http-token",
      } as Record<string, string>)[name],
    {
      modules: MODULES,
      hostname: () => "h",
      readFile: (path) => (path === "/run/secrets/http-token" ? "file-t0ken\n" : ""),
    },
  );
  assert.ok(result.ok, JSON.stringify(!result.ok && result.problems));
  const [unit] = result.config.checks;
  assert.ok(unit.ok, JSON.stringify(unit));
  assert.equal((unit.config as HttpConfig).authorization, "Bearer file-t0ken");
  assert.ok(result.config.readFiles.includes("/run/secrets/http-token"));
  assert.ok(result.config.secrets.some((s) => s.value === "file-t0ken"));
});
