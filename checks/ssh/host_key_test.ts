import assert from "node:assert/strict";
import { describeHostKey } from "./host_key.ts";

Deno.test("ssh fingerprints a host key blob the way ssh-keygen -lf does", async () => {
  // The blob of an ed25519 key: string "ssh-ed25519", string <32 bytes>.
  const name = new TextEncoder().encode("ssh-ed25519");
  const blob = new Uint8Array(4 + name.length + 4 + 32);
  const view = new DataView(blob.buffer);
  view.setUint32(0, name.length);
  blob.set(name, 4);
  view.setUint32(4 + name.length, 32);
  const info = describeHostKey(blob);
  assert.equal(info.type, "ssh-ed25519");
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", blob));
  const base64 = btoa(String.fromCharCode(...digest)).replace(/=+$/, "");
  assert.equal(info.sha256, `SHA256:${base64}`);
  assert.match(info.sha256, /^SHA256:[A-Za-z0-9+/]{43}$/);
  assert.equal(describeHostKey(new Uint8Array([1, 2])).type, "unknown");
});
