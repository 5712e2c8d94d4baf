import assert from "node:assert/strict";
import { configFor, specFor } from "../../tests/support/nginx_checks.ts";
import { unitConfig, unitError, unitErrorText } from "../../tests/support/specs.ts";
import { nginx } from "./mod.ts";

Deno.test("nginx reads only NGINX_STATUS_URL", () => {
  const read: string[] = [];
  nginx.parse((name) => {
    read.push(name);
    return "http://127.0.0.1/status";
  });
  assert.deepEqual(read, ["NGINX_STATUS_URL"]);
  assert.deepEqual(nginx.options.map((o) => o.name), ["status_url"]);
});

Deno.test("nginx without NGINX_STATUS_URL is one config error naming the variable", () => {
  for (const value of [undefined, "", "   "]) {
    const specs = specFor(value);
    assert.equal(specs.length, 1);
    assert.equal(specs[0].ok, false);
    assert.deepEqual(specs[0].targets, ["NGINX_STATUS_URL"]);
    assert.match(unitError(specs[0]), /^NGINX_STATUS_URL is required/);
  }
});

Deno.test("nginx turns a bad URL into a config error that never quotes the credentials", () => {
  const cases: [string, RegExp][] = [
    ["not a url", /is not a valid URL/],
    ["http://user:hunter2@[::1/status", /is not a valid URL/],
    ["ftp://user:hunter2@127.0.0.1/status", /must start with http:\/\/ or https:\/\/, got ftp:/],
    ["ws://127.0.0.1/status", /got ws:/],
    ["http://user:hunter2@127.0.0.1:6000/status", /port 6000 is one that fetch refuses/],
    ["http://user:hunter2%zz@127.0.0.1/status", /not valid percent-encoding/],
  ];
  for (const [value, pattern] of cases) {
    const [spec] = specFor(value);
    assert.equal(spec.ok, false, value);
    assert.match(unitError(spec), /^NGINX_STATUS_URL: /);
    assert.match(unitError(spec), pattern, value);
    assert.doesNotMatch(JSON.stringify(spec), /hunter2/, value);
  }
});

Deno.test("nginx refuses port 0 and ports above 65535 by name, and takes 1 and 65535", () => {
  const cases: [string, string][] = [
    ["http://127.0.0.1:0/status", "0"],
    ["http://127.0.0.1:65536/status", "65536"],
    ["https://user:hunter2@[::1]:65536/status", "65536"],
    ["http://127.0.0.1:70000/status", "70000"],
    ["http://127.0.0.1:0065536/status", "0065536"],
  ];
  for (const [value, written] of cases) {
    const [spec] = specFor(value);
    assert.equal(
      unitError(spec),
      `NGINX_STATUS_URL: port must be from 1 to 65535, got ${written}`,
      value,
    );
    assert.doesNotMatch(JSON.stringify(spec), /hunter2/, value);
  }
  assert.equal(configFor("http://127.0.0.1:65535/status").net, "127.0.0.1:65535");
  // Port 1 is a Fetch "bad port": refused for that reason, not for its range.
  assert.match(unitError(specFor("http://127.0.0.1:1/")[0]), /port 1 is one that fetch refuses/);
  assert.equal(configFor("http://127.0.0.1:2/").net, "127.0.0.1:2");
});

Deno.test("nginx takes the target and the permission from the URL, without user info", () => {
  const cases: [string, string, string][] = [
    ["http://127.0.0.1/nginx_status", "http://127.0.0.1/nginx_status", "127.0.0.1:80"],
    ["https://localhost/status", "https://localhost/status", "localhost:443"],
    ["http://127.0.0.1:8080/status?x=1#top", "http://127.0.0.1:8080/status?x=1", "127.0.0.1:8080"],
    ["https://[::1]:8443/status", "https://[::1]:8443/status", "[::1]:8443"],
    ["http://u:p@Status.Example:81", "http://status.example:81/", "status.example:81"],
  ];
  for (const [value, url, net] of cases) {
    const [spec] = specFor(value);
    assert.ok(spec.ok, unitErrorText(spec));
    assert.equal(unitConfig(spec).url, url);
    assert.deepEqual(spec.targets, [url]);
    assert.equal(spec.name, url);
    assert.deepEqual(nginx.needs(unitConfig(spec)), { net: [net] });
  }
});

Deno.test("nginx turns URL credentials into a Basic header and secrets, raw and decoded", () => {
  const config = configFor("http://kozak:s3cr%3Aet%2Fp%40ss%25word@127.0.0.1:8080/status");
  assert.equal(config.url, "http://127.0.0.1:8080/status");
  const decoded = "s3cr:et/p@ss%word";
  assert.equal(config.authorization, `Basic ${btoa(`kozak:${decoded}`)}`);
  const secrets = nginx.secrets!(config);
  for (
    const form of [
      "kozak:s3cr%3Aet%2Fp%40ss%25word",
      "s3cr%3Aet%2Fp%40ss%25word",
      `kozak:${decoded}`,
      decoded,
      btoa(`kozak:${decoded}`),
    ]
  ) {
    assert.ok(secrets.includes(form), `${form} missing from ${JSON.stringify(secrets)}`);
  }
  assert.ok(
    !secrets.includes("kozak"),
    "the user name alone is not a secret when there is a password",
  );
  assert.ok(!secrets.includes(""));
  // A user name without a password is a token: it is the secret.
  assert.ok(nginx.secrets!(configFor("http://t0ken@127.0.0.1/status")).includes("t0ken"));
  assert.deepEqual(nginx.secrets!(configFor("http://127.0.0.1/status")), []);
  assert.equal(configFor("http://127.0.0.1/status").authorization, undefined);
  // UTF-8 credentials are encoded as UTF-8 before base64.
  assert.equal(
    configFor("http://%C3%BC:%E2%82%AC@127.0.0.1/").authorization,
    "Basic w7w64oKs",
  );
});
