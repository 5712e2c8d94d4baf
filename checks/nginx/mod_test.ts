import assert from "node:assert/strict";
import type { CheckResult } from "../../src/check.ts";
import { skipUnlessAvailable } from "../../tests/support/binaries.ts";
import {
  blackholeListener,
  closedPort,
  openListener,
  silentListener,
  UNRESOLVABLE_HOST,
} from "../../tests/support/listeners.ts";
import {
  AUTH_PASSWORD,
  AUTH_USER,
  BIG_BODY_BYTES,
  directGet,
  NGINX_BINARY,
  nginxOptions,
  type NginxServer,
  numbersOf,
  startGreeter,
  startNginx,
  startUpstream,
  TLS_CERT_PATH,
} from "../../tests/support/nginx_server.ts";
import { MAX_BODY_BYTES, nginx, type NginxConfig, run } from "./mod.ts";
import { unitConfig, unitError, unitErrorText } from "../../tests/support/specs.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
/** How much later than its deadline a run may end. */
const MARGIN_MS = 250;

function specFor(value: string | undefined) {
  return nginx.parse((name) => (name === "NGINX_STATUS_URL" ? value : undefined));
}

function configFor(url: string): NginxConfig {
  const [spec] = specFor(url);
  return unitConfig(spec);
}

/** One run with a deadline, as the scheduler does it (abort with a TimeoutError). */
async function runCheck(
  config: NginxConfig,
  { timeoutMs = 3000, memory = new Map<string, unknown>() } = {},
): Promise<{ result: CheckResult; elapsedMs: number }> {
  const controller = new AbortController();
  const timer = setTimeout(
    () => controller.abort(new DOMException(`deadline of ${timeoutMs} ms reached`, "TimeoutError")),
    timeoutMs,
  );
  const started = performance.now();
  try {
    const result = await run(config, { signal: controller.signal, memory });
    assert.ok(!Array.isArray(result));
    assert.equal(result.target, config.url);
    return { result, elapsedMs: performance.now() - started };
  } finally {
    clearTimeout(timer);
  }
}

function assertError(result: CheckResult, reason: string, message: RegExp): void {
  assert.equal(result.status, "error", JSON.stringify(result));
  assert.equal(result.reason, reason, JSON.stringify(result));
  assert.match(result.message ?? "", message);
}

function assertTimedOut(elapsedMs: number, timeoutMs: number): void {
  assert.ok(
    elapsedMs >= timeoutMs - 10 && elapsedMs < timeoutMs + MARGIN_MS,
    `took ${elapsedMs.toFixed(0)} ms for a ${timeoutMs} ms deadline`,
  );
}

// ---------------------------------------------------------------- configuration

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
    ["http://127.0.0.1:0/status", /port must be from 1 to 65535/],
    ["http://127.0.0.1:70000/status", /is not a valid URL/],
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

// ---------------------------------------------------------------- network, no nginx

Deno.test("nginx reports refused for a closed port", async () => {
  const { result } = await runCheck(configFor(`http://127.0.0.1:${closedPort()}/status`));
  assertError(result, "refused", /connection refused/);
});

Deno.test("nginx reports dns for a host name that does not resolve", async () => {
  const { result } = await runCheck(configFor(`http://${UNRESOLVABLE_HOST}:8080/status`));
  assertError(result, "dns", /cannot resolve/);
});

Deno.test("nginx reports timeout at the deadline for a server that accepts and never answers", async () => {
  const silent = silentListener();
  try {
    const { result, elapsedMs } = await runCheck(
      configFor(`http://127.0.0.1:${silent.port}/status`),
      { timeoutMs: 400 },
    );
    assertError(result, "timeout", /timed out waiting for 127\.0\.0\.1:\d+ to answer/);
    assertTimedOut(elapsedMs, 400);
    assert.equal(silent.accepted(), 1, "exactly one attempt");
  } finally {
    await silent.close();
  }
});

Deno.test("nginx reports timeout at the deadline for a connect that never completes", async () => {
  const hole = await blackholeListener();
  try {
    const { result, elapsedMs } = await runCheck(
      configFor(`http://127.0.0.1:${hole.port}/status`),
      { timeoutMs: 400 },
    );
    assertError(result, "timeout", /timed out/);
    assertTimedOut(elapsedMs, 400);
  } finally {
    hole.close();
  }
});

Deno.test("nginx reports timeout at once when the signal has already fired", async () => {
  const silent = silentListener();
  try {
    const controller = new AbortController();
    controller.abort(new DOMException("deadline", "TimeoutError"));
    const started = performance.now();
    const result = await run(configFor(`http://127.0.0.1:${silent.port}/`), {
      signal: controller.signal,
      memory: new Map(),
    }) as CheckResult;
    assertError(result, "timeout", /timed out/);
    assert.ok(performance.now() - started < 100);
  } finally {
    await silent.close();
  }
});

Deno.test("nginx reports protocol for a server that answers without HTTP or hangs up", async () => {
  const banner = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const serving = (async () => {
    for await (const conn of banner) {
      await conn.write(new TextEncoder().encode("SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n")).catch(
        () => {},
      );
      conn.close();
    }
  })().catch(() => {});
  const hangUp = openListener();
  try {
    const ssh = await runCheck(
      configFor(`http://127.0.0.1:${(banner.addr as Deno.NetAddr).port}/`),
    );
    assertError(ssh.result, "protocol", /did not answer with HTTP: invalid HTTP version/);
    const closed = await runCheck(configFor(`http://127.0.0.1:${hangUp.port}/`));
    assertError(closed.result, "protocol", /connection closed before message completed/);
  } finally {
    banner.close();
    await serving;
    await hangUp.close();
  }
});

const text = (s: string) => [...new TextEncoder().encode(s)];

/** Greetings of servers that talk first: none of them is HTTP. */
// deno-fmt-ignore
const GREETINGS: [string, Uint8Array][] = [
  ["an SSH banner", new Uint8Array(text("SSH-2.0-OpenSSH_9.2\r\n"))],
  // MySQL's HandshakeV10: length 74, sequence 0, protocol 10, version, thread id, salt, flags …
  ["a MySQL greeting", new Uint8Array([
    0x4a, 0, 0, 0, 0x0a, ...text("8.0.36\0"), 8, 0, 0, 0, ...text("abcdefgh\0"),
    0xff, 0xf7, 0xff, 2, 0, 0xff, 0xdf, 0x15, ...new Array(10).fill(0),
    ...text("ijklmnopqrst\0caching_sha2_password\0"),
  ])],
  ["binary bytes", new Uint8Array([0x00, 0xff, 0x13, 0x37, 0x80, 0x01, 0xfe, 0x7f, 0x1b, 0x00])],
];

Deno.test("nginx reports protocol for servers that talk first, also when the greeting comes before the request", async () => {
  for (const [name, greeting] of GREETINGS) {
    const greeter = await startGreeter(greeting);
    try {
      const config = configFor(`http://127.0.0.1:${greeter.port}/status`);
      // Usual order on loopback: the request is written, the greeting is read as its answer.
      const { result } = await runCheck(config);
      assertError(result, "protocol", /did not answer with HTTP/);

      // A busy agent: the greeting is there before the client's first turn after
      // the connect. The connect has started when fetch() returns; blocking this
      // thread until the greeter (on its own thread) has written gives that order
      // nearly always (the runtime may still write the request first: then the
      // usual answer, and another try).
      let early = false;
      for (let runs = 2; runs <= 11 && !early; runs++) {
        const running = runCheck(config);
        assert.ok(greeter.blockUntilWritten(runs, 5000), `${name}: no greeting written`);
        const { result } = await running;
        assertError(result, "protocol", /did not answer with HTTP/);
        early = /it sent data before the request/.test(result.message ?? "");
      }
      assert.ok(early, `${name}: the greeting never arrived before the request`);
    } finally {
      await greeter.close();
    }
  }
});

Deno.test("nginx reports tls, in words, for https:// to a plain HTTP server", async () => {
  const plain = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    () => new Response("Active connections: 1 \n"),
  );
  try {
    const { result } = await runCheck(configFor(`https://127.0.0.1:${plain.addr.port}/status`));
    assertError(
      result,
      "tls",
      /^TLS with 127\.0\.0\.1:\d+ failed: the server does not speak TLS \(it answered plain HTTP\?\)$/,
    );
  } finally {
    await plain.shutdown();
  }
});

/** A raw HTTP server that writes `reply` (bytes) to every connection, then hangs up. */
function rawServer(reply: Uint8Array): { url: string; close: () => Promise<void> } {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const serving = (async () => {
    for await (const conn of listener) {
      await conn.read(new Uint8Array(4096)).catch(() => null);
      await conn.write(reply).catch(() => 0);
      conn.close();
    }
  })().catch(() => {});
  return {
    url: `http://127.0.0.1:${(listener.addr as Deno.NetAddr).port}/status`,
    close: async () => {
      listener.close();
      await serving;
    },
  };
}

Deno.test("nginx reports protocol for a body cut off mid-way and for a body that is not text", async () => {
  const encoder = new TextEncoder();
  const head = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n";
  const page = "Active connections: 1 \n";
  const short = rawServer(encoder.encode(`${head}Content-Length: 97\r\n\r\n${page}`));
  const binary = rawServer(
    new Uint8Array([...encoder.encode(`${head}Content-Length: 4\r\n\r\n`), 0xff, 0xfe, 0x00, 0x41]),
  );
  try {
    const cut = await runCheck(configFor(short.url));
    assertError(cut.result, "protocol", /body of .* was cut off after 23 bytes/);
    const notText = await runCheck(configFor(binary.url));
    assertError(notText.result, "protocol", /is not text/);
  } finally {
    await short.close();
    await binary.close();
  }
});

// ---------------------------------------------------------------- a real nginx

Deno.test({
  name: "nginx against a real nginx: values, rates, every bad answer, TLS, credentials, restart",
  ignore: skipUnlessAvailable(NGINX_BINARY),
  fn: async (t) => {
    const upstream = startUpstream();
    const options = await nginxOptions(upstream.port);
    let server: NginxServer | undefined;
    try {
      server = await startNginx(options);
      const statusUrl = server.url("/status");

      /** Waits until nginx counts only the connection asking (our runs closed theirs). */
      const activeSettles = async () => {
        let active = -1;
        for (let i = 0; i < 100; i++) {
          active = numbersOf((await directGet(statusUrl)).text)[0];
          if (active === 1) return;
          await new Promise((r) => setTimeout(r, 20));
        }
        assert.fail(`nginx still counts ${active} active connections: a run left one open`);
      };

      await t.step("ok: the values equal a direct GET made right before and after", async () => {
        const before = numbersOf((await directGet(statusUrl)).text);
        const { result } = await runCheck(configFor(statusUrl));
        const after = numbersOf((await directGet(statusUrl)).text);
        assert.equal(result.status, "ok", JSON.stringify(result));
        assert.equal(result.reason, undefined);
        const d = result.details!;
        // Each GET opens one connection and makes one request: the check sits exactly between.
        assert.equal(d.accepts, before[1] + 1);
        assert.equal(d.handled, before[2] + 1);
        assert.equal(d.requests, before[3] + 1);
        assert.equal(d.accepts, after[1] - 1);
        assert.equal(d.handled, after[2] - 1);
        assert.equal(d.requests, after[3] - 1);
        assert.ok((d.active as number) >= 1 && (d.writing as number) >= 1, JSON.stringify(d));
        for (const key of ["reading", "waiting"]) assert.equal(typeof d[key], "number");
        assert.equal(d.dropped, 0);
        assert.equal(d.counter_reset, false);
        assert.equal(d.accepts_per_s, undefined, "no rate on the first run");
        assert.equal(result.message, undefined);
      });

      await t.step("ok: rates of accepts and requests between two runs", async () => {
        const memory = new Map<string, unknown>();
        const config = configFor(statusUrl);
        const first = (await runCheck(config, { memory })).result;
        const wallStart = performance.now();
        for (let i = 0; i < 5; i++) await directGet(statusUrl);
        await new Promise((r) => setTimeout(r, 250));
        const second = (await runCheck(config, { memory })).result;
        const wallS = (performance.now() - wallStart) / 1000;
        assert.equal(first.status, "ok");
        assert.equal(second.status, "ok");
        assert.equal(first.details!.accepts_per_s, undefined);
        const a = first.details!;
        const b = second.details!;
        assert.equal(b.counter_reset, false);
        const interval = b.rate_interval_s as number;
        assert.ok(interval >= 0.25 && interval <= wallS + 0.05, `interval ${interval} s`);
        const accepted = (b.accepts as number) - (a.accepts as number);
        const requested = (b.requests as number) - (a.requests as number);
        assert.equal(accepted, 6, "5 direct GETs and the second run");
        assert.equal(requested, 6);
        assert.ok(Math.abs((b.accepts_per_s as number) - accepted / interval) < 0.05);
        assert.ok(Math.abs((b.requests_per_s as number) - requested / interval) < 0.05);
        assert.ok((b.accepts_per_s as number) > 0);
      });

      await t.step("ok over IPv6 loopback", async () => {
        if (!options.ipv6) return; // no ::1 on this machine: nothing to dial
        const config = configFor(server!.url("/status", { ipv6: true }));
        assert.deepEqual(nginx.needs(config), { net: [`[::1]:${options.port}`] });
        const { result } = await runCheck(config);
        assert.equal(result.status, "ok", JSON.stringify(result));
        assert.equal(result.target, `http://[::1]:${options.port}/status`);
      });

      await t.step("duration of a successful check (20 runs, fresh memory each)", async () => {
        const config = configFor(statusUrl);
        const durations: number[] = [];
        for (let i = 0; i < 20; i++) {
          const { result, elapsedMs } = await runCheck(config);
          assert.equal(result.status, "ok");
          durations.push(elapsedMs);
        }
        durations.sort((x, y) => x - y);
        const median = durations[10];
        console.log(
          `nginx check duration: median ${median.toFixed(2)} ms, min ${
            durations[0].toFixed(2)
          } ms, max ${durations[19].toFixed(2)} ms`,
        );
        assert.ok(median < 250, `median ${median} ms`);
      });

      await t.step("http_status 500, with the code in details and the message", async () => {
        const { result } = await runCheck(configFor(server!.url("/error")));
        assertError(result, "http_status", /answered HTTP 500 Internal Server Error/);
        assert.deepEqual(result.details, { http_status: 500 });
      });

      await t.step("http_status 404 for a page that does not exist", async () => {
        const { result } = await runCheck(configFor(server!.url("/nginx_status")));
        assertError(result, "http_status", /HTTP 404 .*is stub_status enabled/);
        assert.equal(result.details?.http_status, 404);
      });

      await t.step("http_status for a redirect, which is reported and not followed", async () => {
        const before = numbersOf((await directGet(statusUrl)).text);
        const { result } = await runCheck(configFor(server!.url("/redirect")));
        const after = numbersOf((await directGet(statusUrl)).text);
        assertError(
          result,
          "http_status",
          /HTTP 302 .*redirect to .*\/status; redirects are not followed/,
        );
        assert.equal(result.details?.http_status, 302);
        assert.equal(result.details?.location, statusUrl);
        assert.equal(
          after[3] - before[3],
          2,
          "one request for the run: the redirect was not followed",
        );
      });

      await t.step("protocol for a garbage body", async () => {
        const { result } = await runCheck(configFor(server!.url("/garbage")));
        assertError(
          result,
          "protocol",
          /is not a stub_status page: line 1: expected "Active connections: N", got "hello from nginx/,
        );
      });

      await t.step("protocol for a look-alike with a non-numeric value", async () => {
        const { result } = await runCheck(configFor(server!.url("/lookalike")));
        assertError(result, "protocol", /line 3: "handled" is not a whole number: "ten"/);
      });

      await t.step("protocol for a truncated body", async () => {
        const { result } = await runCheck(configFor(server!.url("/truncated")));
        assertError(result, "protocol", /truncated: the body ends inside line 3/);
      });

      await t.step("protocol for an HTML page", async () => {
        const { result } = await runCheck(configFor(server!.url("/html")));
        assertError(result, "protocol", /looks like HTML/);
      });

      await t.step("protocol for a body above the cap, without reading it", async () => {
        const { result } = await runCheck(configFor(server!.url("/big")));
        assertError(result, "protocol", new RegExp(`larger than ${MAX_BODY_BYTES} bytes`));
        assert.equal(result.details?.body_bytes, BIG_BODY_BYTES);
        await activeSettles();
      });

      await t.step("protocol for an endless body: reading stops at the cap", async () => {
        const { result, elapsedMs } = await runCheck(configFor(server!.url("/upstream/endless")), {
          timeoutMs: 5000,
        });
        assertError(result, "protocol", new RegExp(`larger than ${MAX_BODY_BYTES} bytes`));
        const read = result.details?.body_bytes as number;
        assert.ok(read > MAX_BODY_BYTES && read < MAX_BODY_BYTES + 64 * 1024, `read ${read}`);
        assert.ok(elapsedMs < 2000, `took ${elapsedMs} ms`);
        await activeSettles();
      });

      await t.step("timeout at the deadline for headers followed by a stalled body", async () => {
        const { result, elapsedMs } = await runCheck(configFor(server!.url("/upstream/stall")), {
          timeoutMs: 500,
        });
        assertError(result, "timeout", /timed out reading the body of .* \(23 bytes so far\)/);
        assertTimedOut(elapsedMs, 500);
        await activeSettles();
      });

      await t.step("credentials in the URL are sent as Basic auth and appear nowhere", async () => {
        const userInfo = `${AUTH_USER}:${encodeURIComponent(AUTH_PASSWORD)}`;
        const config = configFor(server!.url("/auth/status", { userInfo }));
        assert.equal(config.url, server!.url("/auth/status"));
        const ok = (await runCheck(config)).result;
        assert.equal(ok.status, "ok", JSON.stringify(ok));
        assert.equal(typeof ok.details?.requests, "number");

        const wrong = configFor(server!.url("/auth/status", { userInfo: `${AUTH_USER}:hunter2` }));
        const rejected = (await runCheck(wrong)).result;
        assertError(rejected, "http_status", /HTTP 401 .*credentials in the URL were rejected/);
        assert.equal(rejected.details?.http_status, 401);

        const none = (await runCheck(configFor(server!.url("/auth/status")))).result;
        assertError(none, "http_status", /HTTP 401 .*needs credentials/);

        for (const result of [ok, rejected]) {
          const text = JSON.stringify(result);
          for (const secret of [...config.secretValues, ...wrong.secretValues, AUTH_PASSWORD]) {
            assert.ok(!text.includes(secret), `${secret} leaked into ${text}`);
          }
          assert.equal(result.target, server!.url("/auth/status"));
        }
      });

      await t.step("tls for a self-signed certificate: verification is on", async () => {
        const url = server!.url("/status", { tls: true });
        const { result } = await runCheck(configFor(url));
        assertError(result, "tls", /TLS with 127\.0\.0\.1:\d+ failed: .*UnknownIssuer/);
        // The server itself is fine: a client that trusts this certificate reads the page.
        const trusted = await directGet(url, { caCerts: [Deno.readTextFileSync(TLS_CERT_PATH)] });
        assert.equal(trusted.status, 200);
        assert.equal(numbersOf(trusted.text).length, 7);
      });

      await t.step(
        "tls for https to a plain HTTP port; http_status for http to the TLS port",
        async () => {
          const https = await runCheck(configFor(`https://127.0.0.1:${options.port}/status`));
          assertError(
            https.result,
            "tls",
            /the server does not speak TLS \(it answered plain HTTP\?\)/,
          );
          assert.doesNotMatch(https.result.message ?? "", /InvalidContentType/);
          const plain = await runCheck(configFor(`http://127.0.0.1:${options.tlsPort}/status`));
          assertError(plain.result, "http_status", /HTTP 400/);
        },
      );

      await t.step(
        "needs() is exactly enough: granted it works, another port is permission",
        async () => {
          const config = configFor(statusUrl);
          const runAlone = async (allowNet: string) => {
            const output = await new Deno.Command("deno", {
              args: [
                "run",
                "--no-prompt",
                "--allow-env=NGINX_STATUS_URL",
                `--allow-net=${allowNet}`,
                "tests/support/nginx_run_once.ts",
              ],
              cwd: ROOT,
              env: { NGINX_STATUS_URL: statusUrl, NO_COLOR: "1" },
              stdin: "null",
              stdout: "piped",
              stderr: "piped",
            }).output();
            const stdout = new TextDecoder().decode(output.stdout);
            assert.ok(output.success, new TextDecoder().decode(output.stderr));
            return JSON.parse(stdout) as CheckResult;
          };
          const granted = await runAlone(nginx.needs(config).net!.join(","));
          assert.equal(granted.status, "ok", JSON.stringify(granted));
          const denied = await runAlone(`127.0.0.1:${options.tlsPort}`);
          assertError(denied, "permission", /lacks the network permission for 127\.0\.0\.1:\d+/);
        },
      );

      await t.step(
        "restart between two runs: counter reset detected and noted, no rate",
        async () => {
          const memory = new Map<string, unknown>();
          const config = configFor(statusUrl);
          for (let i = 0; i < 3; i++) await directGet(statusUrl);
          const before = (await runCheck(config, { memory })).result;
          assert.equal(before.status, "ok");
          assert.ok((before.details!.requests as number) > 3);

          await server!.stop();
          server = undefined;
          const down = (await runCheck(config, { memory })).result;
          assertError(down, "refused", /connection refused/);

          server = await startNginx(options);
          const after = (await runCheck(config, { memory })).result;
          assert.equal(after.status, "ok", JSON.stringify(after));
          assert.equal(after.reason, undefined);
          assert.equal(after.details!.counter_reset, true);
          assert.ok((after.details!.requests as number) < (before.details!.requests as number));
          for (const key of ["accepts_per_s", "requests_per_s", "rate_interval_s"]) {
            assert.equal(after.details![key], undefined, `${key} after a reset`);
          }
          assert.match(after.message ?? "", /counters went down .*nginx was restarted/);

          const next = (await runCheck(config, { memory })).result;
          assert.equal(next.details!.counter_reset, false);
          assert.equal(typeof next.details!.accepts_per_s, "number", "rates resume");
          assert.equal(next.message, undefined);
        },
      );

      await t.step("refused once nginx is stopped", async () => {
        await server!.stop();
        server = undefined;
        const { result } = await runCheck(configFor(statusUrl));
        assertError(result, "refused", /connection refused/);
      });
    } finally {
      await server?.stop();
      await upstream.close();
      await Deno.remove(options.prefix, { recursive: true });
    }
  },
});
