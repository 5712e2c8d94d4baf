import assert from "node:assert/strict";
import { findIdent, notSshGreeting, quoteText } from "./banner.ts";

const bytes = (s: string) => new TextEncoder().encode(s);

Deno.test("findIdent() finds the SSH- line after greeting lines, only once it is complete", () => {
  assert.equal(
    findIdent(bytes("SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n")),
    "SSH-2.0-OpenSSH_9.2p1 Debian-2",
  );
  assert.equal(findIdent(bytes("Welcome\r\nSSH-2.0-dropbear\r\n")), "SSH-2.0-dropbear");
  assert.equal(findIdent(bytes("SSH-2.0-Open")), undefined);
  assert.equal(findIdent(bytes("SSH-2.0-\x01odd\r\n")), "SSH-2.0-?odd");
  assert.equal(findIdent(bytes(`SSH-2.0-${"x".repeat(200)}\r\n`)), `SSH-2.0-${"x".repeat(112)}…`);
});

Deno.test("notSshGreeting() flags binary data and HTTP, not other text lines", () => {
  assert.equal(notSshGreeting(bytes("HTTP/1.1 400 Bad Request\r\n")), true);
  assert.equal(notSshGreeting(Uint8Array.from([0x56, 0, 0, 0, 0x0a])), true);
  assert.equal(notSshGreeting(bytes("Welcome to the host\r\n")), false);
  assert.equal(notSshGreeting(bytes("SSH-2.0-x\r\n")), false);
});

Deno.test("quoteText() escapes control characters as JSON does and keeps everything else", () => {
  assert.equal(quoteText("a\tb\r\nc\x01 ä \x7f"), "a\\tb\\r\\nc\\u0001 ä \x7f");
  assert.equal(quoteText("x".repeat(500)), "x".repeat(500));
});
