import assert from "node:assert/strict";
import fc from "fast-check";
import {
  ByteReader,
  type ChunkSource,
  HttpProtocolError,
  MAX_HEAD_BYTES,
  parseHead,
  readHead,
} from "./http1.ts";
import { bodyStream, framingOf } from "./http1_body.ts";

const FIXTURES = new URL("../../tests/fixtures/http/", import.meta.url);
const captured = (name: string) => Deno.readFileSync(new URL(`nginx_${name}.http`, FIXTURES));
const bytes = (text: string) => new TextEncoder().encode(text);
const text = (b: Uint8Array) => new TextDecoder().decode(b);

/** A source handing out `chunks`, then the end (or an error, or a stall). */
function source(chunks: Uint8Array[], end: "end" | "stall" | Error = "end") {
  let index = 0;
  const seen = { pulls: 0 };
  const chunkSource: ChunkSource = {
    next() {
      seen.pulls++;
      if (index < chunks.length) return Promise.resolve(chunks[index++]);
      if (end === "end") return Promise.resolve(null);
      if (end instanceof Error) return Promise.reject(end);
      return new Promise(() => {});
    },
  };
  return { chunkSource, seen };
}

/** Cuts `whole` at the given offsets. */
function split(whole: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set([0, ...cuts.filter((c) => c > 0 && c < whole.length), whole.length])]
    .sort((a, b) => a - b);
  return points.slice(1).map((end, i) => whole.slice(points[i], end));
}

/** Head and body of a response, read the way a run reads them; errors as their message. */
async function readAll(chunks: Uint8Array[], method = "GET") {
  const reader = new ByteReader(source(chunks).chunkSource);
  const head = await readHead(reader);
  let cancelled = false;
  const stream = bodyStream(reader, framingOf(head, method), () => cancelled = true);
  let body = "";
  if (stream) { for await (const piece of stream) body += text(piece); }
  return { head, body, cancelled };
}

async function protocolError(chunks: Uint8Array[], method = "GET"): Promise<string> {
  const error = await readAll(chunks, method).then(() => undefined, (e) => e);
  assert.ok(error instanceof HttpProtocolError, `expected an HttpProtocolError, got ${error}`);
  return error.message;
}

Deno.test("the reader reads nginx's real answers: length, chunked, HEAD, redirect, error", async () => {
  const ok = await readAll([captured("ok")]);
  assert.equal(ok.head.status, 200);
  assert.equal(ok.head.statusText, "OK");
  assert.equal(ok.head.version, "1.1");
  assert.equal(ok.head.headers.get("content-type"), "text/plain");
  assert.equal(ok.body, "hello kozak 42\n");
  const chunked = await readAll([captured("chunked")]);
  assert.equal(chunked.head.headers.get("transfer-encoding"), "chunked");
  assert.equal(chunked.body, "chunked 127.0.0.1 body\n");
  const head = await readAll([captured("head")], "HEAD");
  assert.equal(head.head.headers.get("content-length"), "15");
  assert.equal(head.body, "", "a HEAD answer has no body, whatever its Content-Length");
  const redirect = await readAll([captured("redirect")]);
  assert.equal(redirect.head.status, 301);
  assert.match(redirect.head.headers.get("location") ?? "", /^http:\/\/127\.0\.0\.1:\d+\/hop-2$/);
  assert.match(redirect.body, /<title>301 Moved Permanently<\/title>/);
  const error = await readAll([captured("error")]);
  assert.equal(error.head.status, 500);
  assert.equal(error.head.statusText, "Internal Server Error");
});

Deno.test("the reader reads the same bytes the same way however they are chunked", async () => {
  for (const name of ["ok", "chunked", "redirect"]) {
    const whole = captured(name);
    const expected = await readAll([whole]);
    const byteByByte = await readAll(split(whole, [...whole.keys()]));
    assert.equal(byteByByte.body, expected.body, `${name}, byte by byte`);
    await fc.assert(
      fc.asyncProperty(fc.uniqueArray(fc.nat(whole.length), { maxLength: 12 }), async (cuts) => {
        const read = await readAll(split(whole, cuts));
        assert.equal(read.head.status, expected.head.status);
        assert.equal(read.body, expected.body, `${name}, cut at ${cuts}`);
      }),
      { numRuns: 200, seed: 18 },
    );
  }
});

Deno.test("the reader skips interim answers, folds continued header lines, takes bare LF", async () => {
  const read = await readAll([
    bytes("HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\n"),
    bytes("HTTP/1.1 200 OK\nContent-Length: 2\nX-Long: one\n  two\n\nhi"),
  ]);
  assert.equal(read.head.status, 200);
  assert.equal(read.head.headers.get("x-long"), "one two");
  assert.equal(read.body, "hi");
  const http10 = await readAll([bytes("HTTP/1.0 404 Not Found\r\n\r\nuntil the close")]);
  assert.equal(http10.head.version, "1.0");
  assert.equal(http10.body, "until the close", "no length: the body runs until the close");
  const noReason = await readAll([bytes("HTTP/1.1 204\r\nContent-Length: 10\r\n\r\n")]);
  assert.equal(noReason.head.statusText, "");
  assert.equal(noReason.body, "", "204 has no body");
});

Deno.test("the reader names answers that are not HTTP at their first bytes", async () => {
  const cases: [string[], RegExp][] = [
    [["SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n"], /^it began with "SSH-2\.0-OpenSSH_" …$/],
    [["S"], /^it began with "S"$/],
    [["\x16\x03\x01\x00"], /^it began with 16 03 01 00$/],
    [["HTTP/2 200\r\n\r\n"], /^the status line is not HTTP\/1\.x: "HTTP\/2 200"$/],
    [["HTTP/1.1 20 OK\r\n\r\n"], /^the status line is not HTTP\/1\.x/],
    [["HTTP/1.1 700 Odd\r\n\r\n"], /^the status code 700 is outside 100-599$/],
    [["HTTP/3.0 200 OK\r\n\r\n"], /^the server answered HTTP\/3\.0, not HTTP\/1\.0 or 1\.1$/],
    [
      ["HTTP/1.1 200 OK\r\nno colon here\r\n\r\n"],
      /^header line 1 is not `Name: value`: "no colon here"$/,
    ],
    [["HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n"], /^header line 1 is not `Name: value`/],
    [[""], /^the server closed the connection without answering$/],
    [["HTTP/1.1 200 OK\r\nContent-"], /^the connection closed in the middle of the response head/],
    [
      ["HTTP/1.1 200 OK\r\nContent-Length: 5, 6\r\n\r\n"],
      /Content-Length "5, 6" is not one length/,
    ],
    [["HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n"], /Content-Length "-1" is not one length/],
  ];
  for (const [parts, pattern] of cases) {
    const message = await protocolError(parts.filter((p) => p !== "").map(bytes));
    assert.match(message, pattern, JSON.stringify(parts));
  }
});

Deno.test("the reader stops a head that never ends at its cap, and a banner at once", async () => {
  const endless = source([
    bytes("HTTP/1.1 200 OK\r\n"),
    ...Array(100).fill(bytes(`X-A: ${"a".repeat(1000)}\r\n`)),
  ], "stall");
  const error = await readHead(new ByteReader(endless.chunkSource)).catch((e) => e);
  assert.ok(error instanceof HttpProtocolError);
  assert.equal(error.message, `the response head is larger than ${MAX_HEAD_BYTES} bytes`);
  assert.ok(endless.seen.pulls < 70, `read ${endless.seen.pulls} chunks`);
  // A peer that talks first and then waits is named without waiting for more.
  const banner = source([bytes("SSH-2.0-OpenSSH_9.2\r\n")], "stall");
  const named = await readHead(new ByteReader(banner.chunkSource)).catch((e) => e);
  assert.match(String(named), /it began with "SSH-2\.0-OpenSSH_"/);
});

Deno.test("the body breaks with a protocol error when it is cut off or its chunks are bad", async () => {
  const cases: [string, RegExp][] = [
    ["Content-Length: 10\r\n\r\nshort", /closed after 5 bytes of the body, of 10 announced$/],
    [
      "Transfer-Encoding: chunked\r\n\r\n5\r\nab",
      /closed after 2 bytes of the body, in the middle of a chunk$/,
    ],
    ["Transfer-Encoding: chunked\r\n\r\nzz\r\n", /^a chunk size is not hexadecimal: "zz"$/],
    [
      "Transfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n0\r\n\r\n",
      /^a chunk is longer than its size says$/,
    ],
    ["Transfer-Encoding: chunked\r\n\r\n2\r\nab\r\n", /in the middle of a chunk size line$/],
    [
      `Transfer-Encoding: chunked\r\n\r\n${"1".repeat(5000)}`,
      /^a chunk size line is longer than 4096 bytes$/,
    ],
  ];
  for (const [rest, pattern] of cases) {
    const message = await protocolError([bytes(`HTTP/1.1 200 OK\r\n${rest}`)]);
    assert.match(message, pattern, rest);
  }
});

Deno.test("the reader takes chunk extensions and trailers, and hands a long body out in pieces", async () => {
  const read = await readAll([
    bytes(
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;ext=1\r\nabc\r\n0\r\nX-T: 1\r\n\r\n",
    ),
  ]);
  assert.equal(read.body, "abc");
  const reader = new ByteReader(
    source([bytes("HTTP/1.1 200 OK\r\n\r\n"), new Uint8Array(200_000)]).chunkSource,
  );
  const stream = bodyStream(reader, framingOf(await readHead(reader), "GET"), () => {});
  const sizes: number[] = [];
  for await (const piece of stream!) sizes.push(piece.length);
  assert.equal(sizes.reduce((a, b) => a + b, 0), 200_000);
  assert.ok(sizes.every((s) => s <= 64 * 1024), `pieces ${sizes}`);
});

Deno.test("cancelling the body (the cap, the deadline) runs the close callback", async () => {
  const reader = new ByteReader(source([bytes("HTTP/1.1 200 OK\r\n\r\nabc")], "stall").chunkSource);
  let closed = false;
  const stream = bodyStream(reader, framingOf(await readHead(reader), "GET"), () => closed = true);
  const body = stream!.getReader();
  assert.equal(text((await body.read()).value!), "abc");
  await body.cancel();
  assert.equal(closed, true);
});

Deno.test("parseHead and readHead never fail on garbage with anything but HttpProtocolError", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(
        fc.oneof(
          fc.uint8Array({ maxLength: 64 }),
          fc.constantFrom(
            bytes("HTTP/1.1 200 OK\r\n"),
            bytes("\r\n"),
            bytes("Content-Length: 3\r\n"),
            bytes("Transfer-Encoding: chunked\r\n"),
            bytes("HTTP/1.1 100 Continue\r\n\r\n"),
          ),
        ),
        { maxLength: 10 },
      ),
      async (chunks) => {
        const error = await readAll(chunks).then(() => undefined, (e) => e);
        if (error !== undefined) assert.ok(error instanceof HttpProtocolError, String(error));
      },
    ),
    { numRuns: 500, seed: 18 },
  );
  assert.throws(() => parseHead(bytes("garbage\r\n\r\n")), HttpProtocolError);
});

Deno.test("a source error after some bytes reaches the reader after those bytes", async () => {
  const reset = Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET" });
  const reader = new ByteReader(source([bytes("HTTP/1.1 200 OK\r\n\r\nab")], reset).chunkSource);
  const head = await readHead(reader);
  assert.equal(head.status, 200);
  const stream = bodyStream(reader, framingOf(head, "GET"), () => {})!.getReader();
  assert.equal(text((await stream.read()).value!), "ab");
  await assert.rejects(stream.read(), /ECONNRESET/);
});
