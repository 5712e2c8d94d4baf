/**
 * A strict parser of nginx's `stub_status` page. It accepts exactly the four
 * lines nginx writes (and Tengine's variant with a fourth counter,
 * `request_time`) and rejects everything else with a sentence that says what
 * was wrong: a missing line, a non-numeric value, a cut-off body, something
 * else that merely looks like a status page. A wrong number is worse than an
 * error, so a body that ends in the middle of a line is rejected even when
 * what is there would parse.
 *
 * nginx writes (ngx_http_stub_status_module.c):
 *
 * ```text
 * Active connections: 291 \n
 * server accepts handled requests\n
 *  16630948 16630948 31070465 \n
 * Reading: 6 Writing: 179 Waiting: 106 \n
 * ```
 *
 * @module
 */

/** The values of one stub_status page. */
export interface StubStatus {
  /** Open client connections, including idle keep-alive ones. */
  active: number;
  /** Client connections accepted since nginx started (counter). */
  accepts: number;
  /** Client connections handled since nginx started (counter). */
  handled: number;
  /** Client requests since nginx started (counter). */
  requests: number;
  /** Connections whose request header nginx is reading now. */
  reading: number;
  /** Connections nginx is writing a response to now. */
  writing: number;
  /** Idle keep-alive connections now. */
  waiting: number;
  /** Tengine only: total processing time of all requests, in milliseconds (counter). */
  requestTimeMs?: number;
}

/** The page is not a stub_status page; the message says what was wrong. */
export class StubStatusError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "StubStatusError";
  }
}

const COUNTERS = ["accepts", "handled", "requests"] as const;
const TENGINE_COUNTERS = [...COUNTERS, "request_time"] as const;

/**
 * Each line without digits and blanks. A line cut off by a short body is a
 * prefix of its skeleton (line 2 may be Tengine's longer header).
 */
const SKELETONS = [
  "Activeconnections:",
  "serveracceptshandledrequestsrequest_time",
  "",
  "Reading:Writing:Waiting:",
];

const EXPECTED_LINES = [
  '"Active connections: N"',
  '"server accepts handled requests"',
  "the counters (accepts handled requests)",
  '"Reading: N Writing: N Waiting: N"',
];

/** A short, quoted, single-line excerpt of untrusted text for messages. */
function quote(text: string, max = 40): string {
  const cut = text.length > max ? text.slice(0, max) + "…" : text;
  return JSON.stringify(cut);
}

/** A whole number that a JSON number holds exactly; otherwise an error naming the field. */
function whole(value: string, field: string, line: number): number {
  if (!/^\d+$/.test(value)) {
    throw new StubStatusError(
      `line ${line}: ${field} is not a whole number: ${quote(value)}`,
    );
  }
  const n = Number(value);
  if (!Number.isSafeInteger(n)) {
    throw new StubStatusError(
      `line ${line}: ${field} ${quote(value)} is too large to be represented exactly`,
    );
  }
  return n;
}

function hintFor(body: string): string {
  const start = body.trimStart();
  if (start.startsWith("<")) return " (the body looks like HTML, not a stub_status page)";
  if (start.startsWith("{") || start.startsWith("[")) {
    return " (the body looks like JSON, not a stub_status page)";
  }
  return "";
}

/**
 * Parses a stub_status page. Throws {@link StubStatusError} for anything that
 * is not exactly such a page. Each line may end in `\r\n`; blanks at the ends
 * of a line are ignored; empty lines may follow the last line; nothing else
 * may.
 *
 * @example
 * ```ts
 * import { parseStubStatus } from "./stub_status.ts";
 * const page = "Active connections: 1 \nserver accepts handled requests\n 7 7 9 \n" +
 *   "Reading: 0 Writing: 1 Waiting: 0 \n";
 * console.assert(parseStubStatus(page).requests === 9);
 * ```
 */
export function parseStubStatus(body: string): StubStatus {
  if (body.trim() === "") {
    throw new StubStatusError(body === "" ? "the body is empty" : "the body holds only blanks");
  }
  const parts = body.split("\n");
  // What follows the last "\n" is a line without its end: the body was cut off there.
  const unterminated = parts.pop() ?? "";
  const lines = parts.map((l) => l.endsWith("\r") ? l.slice(0, -1) : l);
  const values: Partial<StubStatus> = {};
  let tengine = false;
  for (let index = 0; index < 4; index++) {
    if (index < lines.length) {
      tengine = parseLine(index, lines[index], tengine, body, values);
      continue;
    }
    if (index === lines.length && unterminated !== "") {
      // Garbage gets the line's own error; the start of a real line is a truncation.
      if (!SKELETONS[index].startsWith(unterminated.replace(/[\s\d]/g, ""))) {
        parseLine(index, unterminated, tengine, body, values);
      }
      throw new StubStatusError(
        `truncated: the body ends inside line ${index + 1} (${
          quote(unterminated)
        }) without a line end, so its last value may be cut off`,
      );
    }
    throw new StubStatusError(
      `truncated: the body ends before line ${index + 1}, ${EXPECTED_LINES[index]}`,
    );
  }
  const rest = [...lines.slice(4), unterminated];
  const extra = rest.findIndex((l) => l.trim() !== "");
  if (extra !== -1) {
    throw new StubStatusError(
      `line ${extra + 5}: unexpected content after the Waiting line: ${quote(rest[extra])}`,
    );
  }
  return values as StubStatus;
}

/** Checks one line and stores its values; returns whether the page is Tengine's. */
function parseLine(
  index: number,
  text: string,
  tengine: boolean,
  body: string,
  values: Partial<StubStatus>,
): boolean {
  const line = index + 1;
  switch (index) {
    case 0: {
      const match = /^Active connections:[ \t]*(.*?)[ \t]*$/.exec(text);
      if (!match) {
        throw new StubStatusError(
          `line 1: expected "Active connections: N", got ${quote(text)}${hintFor(body)}`,
        );
      }
      values.active = whole(match[1], '"Active connections"', line);
      return tengine;
    }
    case 1: {
      const words = text.trim().split(/[ \t]+/).join(" ");
      if (words === `server ${COUNTERS.join(" ")}`) return false;
      if (words === `server ${TENGINE_COUNTERS.join(" ")}`) return true;
      throw new StubStatusError(
        `line 2: expected "server accepts handled requests", got ${quote(text)}`,
      );
    }
    case 2: {
      const names = tengine ? TENGINE_COUNTERS : COUNTERS;
      const fields = text.trim() === "" ? [] : text.trim().split(/[ \t]+/);
      if (fields.length !== names.length) {
        throw new StubStatusError(
          `line 3: expected ${names.length} numbers (${names.join(" ")}), got ${fields.length}: ${
            quote(text)
          }`,
        );
      }
      const [accepts, handled, requests, requestTime] = fields.map((f, i) =>
        whole(f, `"${names[i]}"`, line)
      );
      values.accepts = accepts;
      values.handled = handled;
      values.requests = requests;
      if (tengine) values.requestTimeMs = requestTime;
      return tengine;
    }
    default: {
      const match = /^Reading:[ \t]*(\S*)[ \t]+Writing:[ \t]*(\S*)[ \t]+Waiting:[ \t]*(\S*)[ \t]*$/
        .exec(text);
      if (!match) {
        throw new StubStatusError(
          `line 4: expected "Reading: N Writing: N Waiting: N", got ${quote(text)}`,
        );
      }
      values.reading = whole(match[1], '"Reading"', line);
      values.writing = whole(match[2], '"Writing"', line);
      values.waiting = whole(match[3], '"Waiting"', line);
      return tengine;
    }
  }
}
