/**
 * One redaction step for every log line and every event: removes the
 * configured secret values wherever they occur as free text, also inside
 * error messages that come from libraries, in their URL-encoded and
 * JSON-escaped forms.
 *
 * Redaction never changes the structure of what it cleans. In an event, the
 * fields a receiver keys on (`v`, `type`, `id`, `seq`, `run`, `agent`,
 * `timestamp`, `module`, `instance`, `labels`, `status`, `reason`, numbers,
 * booleans and every object key) are left as they are; only free text is
 * redacted: `message`, `target` and the strings inside `details`. In a log
 * line, the message and the field values are redacted, never the time stamp,
 * the level or the field names.
 *
 * A secret of {@link MIN_SECRET_LENGTH} characters or more is replaced
 * wherever it occurs. A shorter one (`a`, `ok`, `0`) occurs inside ordinary
 * words, so it is replaced only where it stands as a whole token (not next to
 * a letter or digit); the agent warns about such secrets at start.
 *
 * @module
 */

/** What a removed secret is replaced with. */
export const REDACTED = "[REDACTED]";

/** Secrets shorter than this are replaced only as whole tokens. */
export const MIN_SECRET_LENGTH = 4;

/** A secret value and where it came from (for the start-up warning, never the value). */
export interface NamedSecret {
  name: string;
  value: string;
}

/** Replaces known secret values in free text, in log records and in events. */
export interface Redactor {
  /** The string with every secret (and its encoded forms) replaced. */
  text(value: string): string;
  /** A deep copy of a JSON-like value with every string value redacted (keys kept). */
  value<T>(value: T): T;
  /** A copy of an event with its free text redacted and its structure untouched. */
  event<T>(event: T): T;
  /** `JSON.stringify` of {@link event}; skips the copy when no secret occurs. */
  json(event: unknown): string;
  /** Names of the configured secrets that are shorter than {@link MIN_SECRET_LENGTH}. */
  readonly short: readonly string[];
}

/** Event fields that are structure: never redacted (see the module doc). */
const STRUCTURAL_FIELDS = new Set([
  "v",
  "type",
  "id",
  "seq",
  "run",
  "agent",
  "timestamp",
  "module",
  "instance",
  "labels",
  "status",
  "reason",
  "duration_ms",
  "uptime_s",
  "interval_s",
  "queue",
  "version",
  "skipped_runs",
]);

/** The forms a secret takes in URLs, query strings and JSON text. */
function encodedForms(secret: string): string[] {
  const url = new URL("http://host");
  url.password = secret; // user info keeps `+ $ & ,` as they are
  return [
    secret,
    encodeURIComponent(secret),
    url.password,
    new URLSearchParams({ s: secret }).toString().slice(2), // a space becomes `+`
    JSON.stringify(secret).slice(1, -1),
  ];
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * Builds a redactor. Plain strings and {@link NamedSecret}s may be mixed;
 * empty values are ignored; longer secrets are replaced first so that a
 * secret containing another is removed whole.
 *
 * @example
 * ```ts
 * import { createRedactor } from "./redact.ts";
 * const r = createRedactor(["hunter2", { name: "MYSQL_PASSWORD", value: "a" }]);
 * console.assert(r.text("auth failed for hunter2") === "auth failed for [REDACTED]");
 * console.assert(r.text("a kozak agent") === "[REDACTED] kozak agent");
 * console.assert(r.short[0] === "MYSQL_PASSWORD");
 * ```
 */
export function createRedactor(
  secrets: Iterable<string | NamedSecret | undefined>,
): Redactor {
  const anywhere = new Set<string>();
  const tokens = new Set<string>();
  const short = new Set<string>();
  for (const entry of secrets) {
    const value = typeof entry === "string" ? entry : entry?.value;
    if (!value) continue;
    const isShort = [...value].length < MIN_SECRET_LENGTH;
    if (isShort) short.add(typeof entry === "string" ? "a secret" : entry!.name);
    for (const form of encodedForms(value)) {
      if (form === "") continue;
      // An encoding can make a short secret long (`%2F`); it still stands inside words.
      (isShort ? tokens : anywhere).add(form);
    }
  }
  const ordered = [...anywhere].sort((a, b) => b.length - a.length);
  const tokenPattern = tokens.size === 0 ? undefined : new RegExp(
    `(?<![\\p{L}\\p{N}])(?:${
      [...tokens].sort((a, b) => b.length - a.length).map(escapeRegExp).join("|")
    })(?![\\p{L}\\p{N}])`,
    "gu",
  );
  const none = ordered.length === 0 && tokenPattern === undefined;

  const text = (value: string): string => {
    let out = value;
    for (const secret of ordered) {
      if (out.includes(secret)) out = out.split(secret).join(REDACTED);
    }
    return tokenPattern ? out.replace(tokenPattern, REDACTED) : out;
  };
  const occursIn = (serialized: string): boolean => {
    if (ordered.some((secret) => serialized.includes(secret))) return true;
    if (!tokenPattern) return false;
    tokenPattern.lastIndex = 0;
    return tokenPattern.test(serialized);
  };
  const deep = (value: unknown): unknown => {
    if (typeof value === "string") return text(value);
    if (Array.isArray(value)) return value.map(deep);
    if (value !== null && typeof value === "object") {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) out[k] = deep(v);
      return out;
    }
    return value;
  };
  const event = <T>(e: T): T => {
    if (none || e === null || typeof e !== "object" || Array.isArray(e)) return deep(e) as T;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(e)) out[k] = STRUCTURAL_FIELDS.has(k) ? v : deep(v);
    return out as T;
  };
  return {
    text: none ? (v) => v : text,
    value: <T>(v: T) => (none ? v : deep(v) as T),
    event: <T>(e: T) => (none ? e : event(e)),
    json: (e) => {
      const plain = JSON.stringify(e);
      // Every form JSON can hold is searched for, so a miss means there is nothing to redact.
      return none || !occursIn(plain) ? plain : JSON.stringify(event(e));
    },
    short: [...short],
  };
}

/** A redactor whose secrets can be replaced (a reload): everything built on it follows. */
export interface SwappableRedactor extends Redactor {
  /** From now on, redact with `next`. */
  set(next: Redactor): void;
}

/** Wraps `initial` so that a reload can swap the secrets under the logger and the events. */
export function swappable(initial: Redactor): SwappableRedactor {
  let current = initial;
  return {
    text: (value) => current.text(value),
    value: (value) => current.value(value),
    event: (event) => current.event(event),
    json: (event) => current.json(event),
    get short() {
      return current.short;
    },
    set(next) {
      current = next;
    },
  };
}
