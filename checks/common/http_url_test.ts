import assert from "node:assert/strict";
import { parseHttpUrl, portOf, shownUrl } from "./http_url.ts";

Deno.test("parseHttpUrl() gives the URL without user info or fragment, its host, port and grant", () => {
  const cases: [string, string, string, number, string][] = [
    ["http://127.0.0.1/x", "http://127.0.0.1/x", "127.0.0.1", 80, "127.0.0.1:80"],
    [
      "https://u:p@Example.COM/a?b=1#c",
      "https://example.com/a?b=1",
      "example.com",
      443,
      "example.com:443",
    ],
    ["https://[::1]:8443/", "https://[::1]:8443/", "::1", 8443, "[::1]:8443"],
    ["http://localhost:65535", "http://localhost:65535/", "localhost", 65535, "localhost:65535"],
  ];
  for (const [raw, url, host, port, net] of cases) {
    const parsed = parseHttpUrl(raw);
    assert.equal(parsed.url.href, url, raw);
    assert.equal(parsed.host, host, raw);
    assert.equal(parsed.port, port, raw);
    assert.equal(parsed.net, net, raw);
  }
});

Deno.test("parseHttpUrl() says what is wrong without quoting the credentials", () => {
  const cases: [string, RegExp][] = [
    ["nonsense", /^is not a valid URL \(expected e\.g\. https:\/\/x\.test\/\)$/],
    ["ftp://u:hunter2@127.0.0.1/", /^must start with http:\/\/ or https:\/\/, got ftp:\/\/$/],
    ["http://u:hunter2@127.0.0.1:0/", /^port must be from 1 to 65535, got 0$/],
    ["http://u:hunter2@127.0.0.1:65536/", /^port must be from 1 to 65535, got 65536$/],
    ["http://u:hunter2%zz@127.0.0.1/", /not valid percent-encoding/],
  ];
  for (const [raw, pattern] of cases) {
    assert.throws(() => parseHttpUrl(raw, "https://x.test/"), (error: Error) => {
      assert.match(error.message, pattern, raw);
      assert.doesNotMatch(error.message, /hunter2/);
      return true;
    });
  }
});

Deno.test("parseHttpUrl() turns user info into a Basic header and every form of it into secrets", () => {
  const parsed = parseHttpUrl("http://kozak:p%40ss@127.0.0.1/");
  assert.equal(parsed.authorization, `Basic ${btoa("kozak:p@ss")}`);
  for (const form of ["kozak:p%40ss", "p%40ss", "kozak:p@ss", "p@ss", btoa("kozak:p@ss")]) {
    assert.ok(parsed.secretValues.includes(form), form);
  }
  assert.deepEqual(parseHttpUrl("http://127.0.0.1/").secretValues, []);
});

Deno.test("portOf() is the URL's port or its scheme's default; shownUrl() masks or names the variable", () => {
  assert.equal(portOf(new URL("https://a.test/")), 443);
  assert.equal(portOf(new URL("http://a.test/")), 80);
  assert.equal(portOf(new URL("http://a.test:8080/")), 8080);
  assert.equal(shownUrl("http://u:secret@a.test/", "X_URL"), "http://***:***@a.test/");
  assert.equal(shownUrl("http://u:secret@[::1/", "X_URL"), "X_URL");
});
