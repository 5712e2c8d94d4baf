import assert from "node:assert/strict";
import {
  formatEventLine,
  type MockMonitoring,
  mockOptionsFromEnv,
  startMockMonitoring,
} from "./mock_monitoring.ts";
import { EventFactory, type ServerMessage } from "./src/protocol.ts";

const NOW = Date.UTC(2026, 10, 27, 6, 28, 4, 123);

/** A test client: collects server messages, waits for the next one, closes cleanly. */
class Client {
  readonly ws: WebSocket;
  readonly opened: Promise<void>;
  readonly closed: Promise<CloseEvent>;
  #inbox: ServerMessage[] = [];
  #waiters: ((m: ServerMessage) => void)[] = [];

  constructor(url: string, token?: string) {
    this.ws = token === undefined
      ? new WebSocket(url)
      : new WebSocket(url, { headers: { Authorization: `Bearer ${token}` } });
    this.opened = new Promise((resolve, reject) => {
      this.ws.addEventListener("open", () => resolve());
      this.ws.addEventListener("close", () => reject(new Error("closed before open")));
    });
    this.opened.catch(() => {}); // observed by the tests that expect a refusal
    this.closed = new Promise((resolve) => this.ws.addEventListener("close", resolve));
    this.ws.addEventListener("error", () => {}); // a refusal is followed by close
    this.ws.addEventListener("message", (e) => {
      const message = JSON.parse(e.data) as ServerMessage;
      const waiter = this.#waiters.shift();
      if (waiter) waiter(message);
      else this.#inbox.push(message);
    });
  }

  /** The next message from the server; fails after `ms`. */
  next(ms = 2000): Promise<ServerMessage> {
    const queued = this.#inbox.shift();
    if (queued) return Promise.resolve(queued);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
        reject(new Error(`no server message within ${ms} ms`));
      }, ms);
      const waiter = (m: ServerMessage) => {
        clearTimeout(timer);
        resolve(m);
      };
      this.#waiters.push(waiter);
    });
  }

  send(value: unknown): void {
    this.ws.send(typeof value === "string" ? value : JSON.stringify(value));
  }

  async close(): Promise<void> {
    if (this.ws.readyState !== WebSocket.CLOSED) this.ws.close(1000);
    await this.closed;
  }
}

/** Starts a quiet mock on a free port, runs `fn`, always closes the mock. */
async function withMock(
  options: Parameters<typeof startMockMonitoring>[0],
  fn: (mock: MockMonitoring, lines: string[]) => Promise<void>,
): Promise<void> {
  const lines: string[] = [];
  const mock = startMockMonitoring({ port: 0, log: (line) => lines.push(line), ...options });
  try {
    await fn(mock, lines);
  } finally {
    await mock.close();
  }
}

function factory(agent = "web-1"): EventFactory {
  return new EventFactory({ agent, now: () => NOW });
}

async function getJson(mock: MockMonitoring, path: string): Promise<unknown> {
  const response = await fetch(`http://127.0.0.1:${mock.port}${path}`);
  assert.equal(response.status, 200);
  return await response.json();
}

/** An ack naming the event with this seq, by its run (and id) too. */
function assertAck(message: unknown, seq: number): void {
  const ack = message as { type?: string; seq?: number; run?: unknown; id?: unknown };
  assert.equal(ack.type, "ack", JSON.stringify(message));
  assert.equal(ack.seq, seq, JSON.stringify(message));
  assert.equal(typeof ack.run, "string", JSON.stringify(message));
}

Deno.test("mock says hello, acks by seq, counts valid and invalid events", async () => {
  await withMock({}, async (mock, lines) => {
    assert.ok(mock.port > 0);
    const client = new Client(mock.url);
    try {
      await client.opened;
      assert.deepEqual(await client.next(), { type: "hello", v: 1, acks: true });

      const events = factory();
      const ok = events.check({
        module: "tcp",
        target: "127.0.0.1:22",
        status: "ok",
        duration_ms: 1.2,
      });
      client.send(ok);
      assertAck(await client.next(), 1);

      const bad = { ...events.check({ module: "tcp", target: "x", status: "ok", duration_ms: 1 }) };
      client.send({ ...bad, status: "bad" });
      assertAck(await client.next(), 2); // received, even if invalid

      client.send("not json at all"); // no seq, so no ack: the next ack proves it was handled
      client.send(events.check({ module: "tcp", target: "y", status: "ok", duration_ms: 1 }));
      assertAck(await client.next(), 3);

      const stats = await getJson(mock, "/stats") as Record<string, number>;
      assert.equal(stats.connections_total, 1);
      assert.equal(stats.connections_open, 1);
      assert.equal(stats.events, 4);
      assert.equal(stats.invalid, 2);
      assert.equal(stats.resends, 0);

      const kept = await getJson(mock, "/events") as { valid: boolean; errors?: string[] }[];
      assert.deepEqual(kept.map((e) => e.valid), [true, false, false, true]);
      assert.ok(kept[1].errors?.some((e) => e.startsWith("/status")), String(kept[1].errors));

      assert.ok(lines.includes("06:28:04.123 web-1 #1 check tcp 127.0.0.1:22 ok 1.2ms"));
      assert.ok(lines.some((l) => l.startsWith("INVALID event from web-1: /status")));
      assert.ok(lines.includes("INVALID frame: not JSON"));
    } finally {
      await client.close();
    }
  });
});

Deno.test("mock acks the highest seq of an array frame and marks a resend by id", async () => {
  await withMock({}, async (mock, lines) => {
    const events = factory();
    const batch = [1, 2, 3].map(() =>
      events.check({ module: "tcp", target: "127.0.0.1:22", status: "ok", duration_ms: 1 })
    );
    const first = new Client(mock.url);
    try {
      await first.next(); // hello
      first.send(batch);
      assertAck(await first.next(), 3);
    } finally {
      await first.close();
    }

    // Reconnect and resend the last event with the same id, then a new one after a gap.
    const second = new Client(mock.url);
    try {
      await second.next(); // hello
      second.send(batch[2]);
      assertAck(await second.next(), 3);
      events.check({ module: "tcp", target: "dropped", status: "ok", duration_ms: 1 }); // seq 4, never sent
      second.send(
        events.check({ module: "tcp", target: "127.0.0.1:22", status: "ok", duration_ms: 1 }),
      );
      assertAck(await second.next(), 5);
    } finally {
      await second.close();
    }

    const stats = mock.stats();
    assert.equal(stats.connections_total, 2);
    assert.equal(stats.connections_open, 0);
    assert.equal(stats.events, 5);
    assert.equal(stats.resends, 1);
    assert.equal(stats.missing, 1);
    assert.deepEqual(mock.events().map((e) => e.resend), [false, false, false, true, false]);
    assert.ok(
      lines.some((l) => l.includes("#3 check") && l.endsWith("(resend)")),
      lines.join("\n"),
    );
    assert.ok(
      lines.some((l) => l.includes("#5 check") && l.includes("gap: 1 events missing before #5")),
    );
  });
});

Deno.test("mock treats seq restarting at 1 as an agent restart, not a gap", async () => {
  await withMock({}, async (mock, lines) => {
    const client = new Client(mock.url);
    try {
      await client.next(); // hello
      const before = factory();
      before.check({ module: "tcp", target: "a", status: "ok", duration_ms: 1 });
      client.send(before.check({ module: "tcp", target: "a", status: "ok", duration_ms: 1 }));
      await client.next();
      client.send(factory().check({ module: "tcp", target: "a", status: "ok", duration_ms: 1 }));
      assertAck(await client.next(), 1);
    } finally {
      await client.close();
    }
    assert.equal(mock.stats().missing, 0);
    assert.ok(lines.some((l) => l.includes("#1 check") && l.endsWith("(agent restarted)")));
  });
});

Deno.test("mock without acks sends neither hello nor ack", async () => {
  await withMock({ acks: false }, async (mock) => {
    const client = new Client(mock.url);
    try {
      await client.opened;
      client.send(
        factory().heartbeat({
          uptime_s: 1,
          queue: { size: 0, dropped: 0 },
          version: "0.1.0",
          skipped_runs: 0,
          interval_s: 15,
        }),
      );
      await assert.rejects(client.next(300), /no server message/);
      assert.equal(mock.stats().events, 1);
    } finally {
      await client.close();
    }
  });
});

Deno.test("mock enforces the bearer token on the upgrade without logging it", async () => {
  await withMock({ token: "t" }, async (mock, lines) => {
    const response = await fetch(`http://127.0.0.1:${mock.port}/`, {
      headers: {
        upgrade: "websocket",
        connection: "Upgrade",
        "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
        "sec-websocket-version": "13",
        authorization: "Bearer wrong-secret-value",
      },
    });
    await response.body?.cancel();
    assert.equal(response.status, 401);

    const refused = new Client(mock.url);
    await assert.rejects(refused.opened, /closed before open/);
    await refused.close();

    const accepted = new Client(mock.url, "t");
    try {
      await accepted.opened;
      assert.deepEqual(await accepted.next(), { type: "hello", v: 1, acks: true });
    } finally {
      await accepted.close();
    }

    const rejections = lines.filter((l) => l.startsWith("rejected connection"));
    assert.equal(rejections.length, 2);
    assert.ok(lines.every((l) => !l.includes("wrong-secret-value") && !l.includes("Bearer")));
    assert.equal(mock.stats().connections_total, 1);
  });
});

Deno.test("mock serves the status page and its assets from itself, and 404 for unknown paths", async () => {
  await withMock({}, async (mock) => {
    const base = `http://127.0.0.1:${mock.port}`;
    const page = await fetch(`${base}/`);
    assert.equal(page.status, 200);
    assert.equal(page.headers.get("content-type"), "text/html; charset=utf-8");
    // The browser itself refuses anything but the mock: the page cannot load from the internet.
    assert.match(page.headers.get("content-security-policy") ?? "", /default-src 'none'/);
    assert.match(page.headers.get("content-security-policy") ?? "", /connect-src 'self'/);
    const html = await page.text();
    assert.match(html, /mock monitoring/);
    const links = [...html.matchAll(/(?:src|href)="([^"]*)"/g)].map((m) => m[1]);
    assert.ok(links.length >= 3, links.join());
    for (const link of links) assert.match(link, /^(\/|#)/, `${link} is not served by the mock`);
    for (
      const asset of ["/app.js", "/agents.js", "/rows.js", "/dom.js", "/app.css", "/favicon.svg"]
    ) {
      const response = await fetch(`${base}${asset}`);
      const text = await response.text();
      assert.equal(response.status, 200, asset);
      // The only absolute URL is the SVG namespace, which is a name, not a request.
      const urls = [...text.matchAll(/https?:\/\/[^\s"'`)]+/g)].map((m) => m[0]);
      assert.deepEqual(urls.filter((u) => u !== "http://www.w3.org/2000/svg"), [], asset);
    }
    const missing = await fetch(`${base}/nope`);
    await missing.body?.cancel();
    assert.equal(missing.status, 404);
  });
});

Deno.test("GET /api/agents and /api/checks serve the per-agent and per-check state", async () => {
  await withMock({}, async (mock) => {
    const client = new Client(mock.url);
    try {
      await client.next(); // hello
      const events = factory();
      client.send(events.heartbeat({
        uptime_s: 5,
        queue: { size: 1, dropped: 2 },
        version: "0.1.0",
        skipped_runs: 0,
        interval_s: 15,
      }));
      await client.next();
      client.send(events.check({
        module: "tcp",
        target: "127.0.0.1:1",
        status: "error",
        reason: "refused",
        message: "connection refused",
        duration_ms: 0.4,
        details: { phase: "connect" },
      }));
      await client.next();
      client.send(
        events.check({ module: "tcp", target: "127.0.0.1:22", status: "ok", duration_ms: 1 }),
      );
      await client.next();

      const [agent] = await getJson(mock, "/api/agents") as Record<string, unknown>[];
      assert.equal(agent.agent, "web-1");
      assert.equal(agent.connected, true);
      assert.equal(agent.nodata, false);
      assert.equal(agent.nodata_after_s, 45);
      assert.equal(agent.version, "0.1.0");
      assert.deepEqual(agent.queue, { size: 1, dropped: 2 });
      assert.deepEqual(agent.checks, { total: 2, ok: 1, warn: 0, error: 1 });

      const checks = await getJson(mock, "/api/checks") as Record<string, unknown>[];
      assert.deepEqual(checks.map((c) => [c.target, c.status, c.reason]), [
        ["127.0.0.1:1", "error", "refused"],
        ["127.0.0.1:22", "ok", undefined],
      ]);
      const one = await getJson(
        mock,
        "/api/checks?agent=web-1&instance=tcp&target=127.0.0.1%3A1",
      ) as { history: { details: unknown }[] }[];
      assert.equal(one.length, 1);
      assert.deepEqual(one[0].history.map((h) => h.details), [{ phase: "connect" }]);
      assert.deepEqual(await getJson(mock, "/api/checks?agent=other"), []);
    } finally {
      await client.close();
    }
    // Its only connection closed (the server may see that a moment after the client).
    for (let i = 0; i < 200 && mock.agents()[0].connected; i++) {
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.equal(mock.agents()[0].connected, false);
  });
});

Deno.test("GET /api/stream sends a snapshot and then each event as it arrives", async () => {
  await withMock({}, async (mock) => {
    const controller = new AbortController();
    const response = await fetch(`http://127.0.0.1:${mock.port}/api/stream`, {
      signal: controller.signal,
    });
    assert.equal(response.headers.get("content-type"), "text/event-stream; charset=utf-8");
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = "";
    const until = async (pattern: RegExp) => {
      for (let i = 0; i < 100 && !pattern.test(text); i++) {
        const { value, done } = await reader.read();
        if (done) break;
        text += value;
      }
      assert.match(text, pattern);
    };
    const client = new Client(mock.url);
    try {
      await until(/event: snapshot\ndata: \{"now":/);
      await client.next(); // hello
      client.send(
        factory().check({ module: "tcp", target: "127.0.0.1:9", status: "ok", duration_ms: 1 }),
      );
      await until(/event: update\ndata: .*"target":"127\.0\.0\.1:9"/);
    } finally {
      controller.abort();
      await reader.cancel().catch(() => {});
      await client.close();
    }
  });
});

Deno.test("mock prints NO DATA for an agent silent for 3 heartbeat intervals and notes its return", async () => {
  let now = NOW;
  await withMock({ now: () => now, tickMs: 5 }, async (mock, lines) => {
    const client = new Client(mock.url);
    try {
      await client.next(); // hello
      const events = new EventFactory({ agent: "web-1", now: () => now });
      const beat = () =>
        events.heartbeat({
          uptime_s: 1,
          queue: { size: 0, dropped: 0 },
          version: "0.1.0",
          skipped_runs: 0,
          interval_s: 2,
        });
      client.send(beat());
      await client.next();
      now += 5_999;
      await new Promise((r) => setTimeout(r, 50)); // several ticks: not yet
      assert.ok(!lines.some((l) => l.includes("NO DATA")), lines.join("\n"));
      now += 1;
      const line = await waitForLine(lines, /NO DATA/);
      assert.equal(
        line,
        "06:28:10.123 web-1 NO DATA: nothing received for 6s (3 × heartbeat interval 2s)",
      );
      assert.equal(mock.agents()[0].nodata, true);
      now += 4_000;
      client.send(beat());
      await client.next();
      assert.ok(
        lines.includes("06:28:14.123 web-1 data again after 10s of silence"),
        lines.join("\n"),
      );
      assert.equal(mock.agents()[0].nodata, false);
    } finally {
      await client.close();
    }
  });
});

/** Waits (bounded) until a line matches; returns it. */
async function waitForLine(lines: string[], pattern: RegExp): Promise<string> {
  for (let i = 0; i < 200; i++) {
    const line = lines.find((l) => pattern.test(l));
    if (line !== undefined) return line;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`no line matching ${pattern} in:\n${lines.join("\n")}`);
}

Deno.test("mockOptionsFromEnv colours only on a terminal without NO_COLOR, and reads MOCK_COLOR", () => {
  const env = (vars: Record<string, string>) => (name: string) => vars[name];
  assert.equal(mockOptionsFromEnv(env({})).color, false);
  assert.equal(mockOptionsFromEnv(env({}), { isTerminal: true, noColor: false }).color, true);
  assert.equal(mockOptionsFromEnv(env({}), { isTerminal: true, noColor: true }).color, false);
  assert.equal(mockOptionsFromEnv(env({ MOCK_COLOR: "always" })).color, true);
  assert.throws(() => mockOptionsFromEnv(env({ MOCK_COLOR: "yes please" })), /MOCK_COLOR/);
});

Deno.test("formatEventLine renders checks and heartbeats on one line", () => {
  const events = factory();
  const ok = events.check({
    module: "tcp",
    target: "127.0.0.1:22",
    status: "ok",
    duration_ms: 1.2,
  });
  assert.equal(formatEventLine(ok), "06:28:04.123 web-1 #1 check tcp 127.0.0.1:22 ok 1.2ms");

  const error = events.check({
    module: "postgres",
    instance: "orders-db",
    target: "127.0.0.1:5432",
    status: "error",
    reason: "timeout",
    message: "connect timed out after 5000 ms",
    duration_ms: 5003,
  });
  assert.equal(
    formatEventLine(error, { resend: true }),
    '06:28:04.123 web-1 #2 check postgres/orders-db 127.0.0.1:5432 error timeout "connect timed out after 5000 ms" 5003ms (resend)',
  );

  const heartbeat = events.heartbeat({
    uptime_s: 30.2,
    queue: { size: 0, dropped: 0 },
    version: "0.1.0",
    skipped_runs: 0,
    interval_s: 15,
  });
  assert.equal(
    formatEventLine(heartbeat, { gap: 2 }),
    "06:28:04.123 web-1 #3 heartbeat up 30s queue 0 dropped 0 v0.1.0 (gap: 2 events missing before #3)",
  );

  const hostile = events.check({ module: "systemd", target: "a\nb", status: "ok", duration_ms: 0 });
  assert.ok(!formatEventLine(hostile).includes("\n"));
});
