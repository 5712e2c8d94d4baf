/**
 * What a server sends first: the SSH identification line (`SSH-2.0-…`), or
 * bytes that show at once that the peer is not an SSH server. Pure
 * functions over the first bytes received.
 *
 * @module
 */

const LATIN1 = new TextDecoder("latin1");

/** The longest identification line kept (RFC 4253 allows 255 characters). */
const MAX_IDENT = 120;

/**
 * The server's identification line (`SSH-2.0-…`) among the first bytes it
 * sent, if any: printable ASCII only (anything else becomes `?`), at most
 * {@link MAX_IDENT} characters. The server sends it before any credential,
 * so it cannot quote one.
 */
export function findIdent(bytes: Uint8Array): string | undefined {
  for (const line of LATIN1.decode(bytes).split("\n").slice(0, -1)) {
    if (!line.startsWith("SSH-")) continue;
    const clean = line.replace(/\r$/, "").replace(/[^\x20-\x7e]/g, "?");
    return clean.length > MAX_IDENT ? `${clean.slice(0, MAX_IDENT)}…` : clean;
  }
  return undefined;
}

/**
 * A text of ssh2 or the server for a message: control characters escaped
 * the way JSON escapes them (`\n`, `\u0001`), everything else kept. A
 * message may quote a secret, which the agent's redactor removes later; it
 * knows each secret as written and in its JSON-escaped form, so this keeps
 * a quoted secret findable, and it never cuts the text, since a cut could
 * leave part of a secret where the redactor cannot see it.
 */
export function quoteText(text: string): string {
  // deno-lint-ignore no-control-regex
  return text.replace(/[\u0000-\u001f]/g, (c) => JSON.stringify(c).slice(1, -1));
}

/** Control bytes other than tab, CR, LF: a binary protocol (MySQL's greeting, a TLS alert). */
function hasControlBytes(bytes: Uint8Array): boolean {
  return bytes.some((b) => (b < 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d) || b === 0x7f);
}

/**
 * Whether what a server sent before any `SSH-` line cannot be an SSH
 * greeting: binary data or an HTTP status line. Such a peer is reported at
 * once instead of at the deadline; other text lines are left to ssh2, since
 * SSH allows greeting lines before the identification string.
 */
export function notSshGreeting(bytes: Uint8Array): boolean {
  return hasControlBytes(bytes) || /^HTTP\/\d/.test(LATIN1.decode(bytes.subarray(0, 8)));
}
