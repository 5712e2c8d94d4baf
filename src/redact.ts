/**
 * One redaction step for every log line and every event: removes the
 * configured secret values wherever they occur, also inside error messages
 * that come from libraries.
 *
 * @module
 */

/** What a removed secret is replaced with. */
export const REDACTED = "[REDACTED]";

/** Replaces known secret values in strings and in nested values. */
export interface Redactor {
  /** The string with every secret (and its URL-encoded form) replaced. */
  text(value: string): string;
  /** A deep copy of a JSON-like value with every string redacted. */
  value<T>(value: T): T;
  /** `JSON.stringify` of the redacted value; skips the copy when no secret occurs. */
  json(value: unknown): string;
}

/**
 * Builds a redactor for the given secret values. Empty values are ignored;
 * longer secrets are replaced first so that one secret containing another is
 * removed whole. The URL-encoded and JSON-escaped forms are covered too,
 * because libraries put secrets into URLs and JSON.
 *
 * @example
 * ```ts
 * import { createRedactor } from "./redact.ts";
 * const r = createRedactor(["hunter2"]);
 * console.assert(r.text("auth failed for hunter2") === "auth failed for [REDACTED]");
 * ```
 */
export function createRedactor(secrets: Iterable<string | undefined>): Redactor {
  const forms = new Set<string>();
  for (const secret of secrets) {
    if (!secret) continue;
    forms.add(secret);
    forms.add(encodeURIComponent(secret));
    // URLs encode fewer characters than encodeURIComponent: user info keeps
    // `+ $ & ,` as they are, and query strings turn a space into `+`.
    forms.add(userInfoForm(secret));
    forms.add(new URLSearchParams({ s: secret }).toString().slice(2));
    forms.add(JSON.stringify(secret).slice(1, -1));
  }
  const ordered = [...forms].filter((s) => s.length > 0).sort((a, b) => b.length - a.length);
  const text = (value: string): string => {
    let out = value;
    for (const secret of ordered) {
      if (out.includes(secret)) out = out.split(secret).join(REDACTED);
    }
    return out;
  };
  const deep = (value: unknown): unknown => {
    if (typeof value === "string") return text(value);
    if (Array.isArray(value)) return value.map(deep);
    if (value !== null && typeof value === "object") {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) out[text(k)] = deep(v);
      return out;
    }
    return value;
  };
  return {
    text: ordered.length === 0 ? (v) => v : text,
    value: <T>(v: T) => (ordered.length === 0 ? v : deep(v) as T),
    json: (v) => {
      const plain = JSON.stringify(v);
      // Every form that JSON can hold is in `ordered`, so a miss here means nothing to redact.
      return ordered.some((secret) => plain.includes(secret)) ? JSON.stringify(deep(v)) : plain;
    },
  };
}

/** The secret as `new URL()` writes it into a URL's user info. */
function userInfoForm(secret: string): string {
  const url = new URL("http://host");
  url.password = secret;
  return url.password;
}
