import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import type net from "node:net";
import { Failure } from "../../src/check.ts";
import { dialNode } from "../common/dial_node.ts";
import { serveTcp } from "../../tests/support/listeners.ts";
import { backendMessage } from "../../tests/support/postgres_server.ts";
import { waitFor } from "../../tests/support/processes.ts";
import { StartupRelay } from "./relay.ts";
import type { StartupStage } from "./startup.ts";

/** A loopback peer that writes `script` on accept and records what it reads until EOF. */
function peer(script: Uint8Array[], then: "hold" | "close" = "hold") {
  const received: number[] = [];
  let eof = false;
  const server = serveTcp(async (conn) => {
    for (const part of script) await conn.write(part);
    if (then === "close") return;
    const buffer = new Uint8Array(1024);
    for (let n = await conn.read(buffer); n !== null; n = await conn.read(buffer)) {
      received.push(...buffer.subarray(0, n));
    }
    eof = true;
  });
  return { ...server, received, eof: () => eof };
}

async function relayTo(port: number) {
  const signal = new AbortController().signal;
  const socket: net.Socket = await dialNode({ host: "127.0.0.1", port, address: "a:1", signal });
  const stages: StartupStage[] = [];
  const relay = new StartupRelay(socket, "a:1", (stage) => stages.push(stage));
  const data: Buffer[] = [];
  const errors: Error[] = [];
  let closed = false;
  relay.on("data", (chunk: Buffer) => data.push(chunk));
  relay.on("error", (error: Error) => errors.push(error));
  relay.on("close", () => closed = true);
  return { socket, relay, stages, data, errors, closed: () => closed };
}

const concat = (...parts: Uint8Array[]) => Buffer.concat(parts);

Deno.test("StartupRelay passes bytes both ways unchanged and reports the stages", async () => {
  const answer = concat(backendMessage.authOk(), backendMessage.ready(), Buffer.from("T after"));
  const server = peer([answer]);
  try {
    const r = await relayTo(server.port);
    await waitFor("the answer", () => Buffer.concat(r.data).length === answer.length, 5000);
    assert.deepEqual(Buffer.concat(r.data), answer);
    assert.deepEqual(r.stages, ["ready"]);
    // postgres.js sends its Terminate message only to a socket whose readyState is "open"
    assert.equal(r.relay.readyState, "open");
    r.relay.write(Buffer.from("Q select 1"));
    await waitFor("the query at the server", () => server.received.length === 10, 5000);
    assert.equal(Buffer.from(server.received).toString(), "Q select 1");
    // end(): the server sees EOF, closes, and the relay closes after it
    r.relay.end();
    await waitFor("EOF at the server", () => server.eof(), 5000);
    await waitFor("the relay to close", () => r.closed(), 5000);
    assert.equal(r.relay.readyState, "closed");
    assert.deepEqual(r.errors, []);
  } finally {
    await server.close();
  }
});

Deno.test("StartupRelay ends the connection with the reader's failure before the driver sees a byte", async () => {
  const server = peer([new TextEncoder().encode("SSH-2.0-OpenSSH_9.2p1\r\n")]);
  try {
    const r = await relayTo(server.port);
    await waitFor("the failure", () => r.errors.length === 1, 5000);
    const [error] = r.errors;
    assert.ok(error instanceof Failure);
    assert.equal(error.reason, "protocol");
    assert.equal(r.relay.failure, error, "a decided failure");
    assert.deepEqual(r.data, []);
    assert.equal(r.socket.destroyed, true);
    await waitFor("the server to see the close", () => server.eof(), 5000);
    await waitFor("the relay to close", () => r.closed(), 5000);
  } finally {
    await server.close();
  }
});

Deno.test("StartupRelay makes a hang-up before ReadyForQuery an error, and one after it an end", async () => {
  const early = peer([backendMessage.cleartext()], "close");
  const late = peer([concat(backendMessage.authOk(), backendMessage.ready())], "close");
  try {
    const r = await relayTo(early.port);
    await waitFor("the error", () => r.errors.length === 1, 5000);
    assert.match(r.errors[0].message, /^a:1 closed the connection during the startup handshake/);
    assert.equal(r.relay.failure, undefined, "not a decided failure: a driver's error may win");
    assert.equal(Buffer.concat(r.data).length, 9, "the request was passed on");

    const fine = await relayTo(late.port);
    let ended = false;
    fine.relay.on("end", () => ended = true);
    await waitFor("the relay to close", () => fine.closed(), 5000);
    assert.deepEqual(fine.errors, []);
    assert.ok(ended, "the driver sees the end of the stream");
  } finally {
    await early.close();
    await late.close();
  }
});
