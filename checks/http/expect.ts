/**
 * What an answer must look like: the expected status codes
 * (`HTTP_EXPECT_STATUS`, a comma list of codes and ranges) and the body
 * match (`HTTP_BODY_MATCH`, a substring or `/regex/flags`). Pure parsing and
 * matching, shared by the configuration (which checks the text once) and the
 * run (which judges the answer).
 *
 * @module
 */

import { echo } from "../../src/config_values.ts";

/** Inclusive ranges of status codes, in the order written. */
export type StatusRanges = readonly (readonly [number, number])[];

/** The lowest and highest status code there is (RFC 9110, section 15). */
const LOWEST = 100;
const HIGHEST = 599;

function statusCode(text: string, item: string): number {
  if (!/^\d{3}$/.test(text)) {
    throw new Error(`${echo(item)} is not a status code or a range like 200-299`);
  }
  const code = Number(text);
  if (code < LOWEST || code > HIGHEST) {
    throw new Error(`${echo(item)}: status codes run from ${LOWEST} to ${HIGHEST}`);
  }
  return code;
}

/**
 * `200-299,301,302` → its ranges; throws an `Error` naming the bad item.
 *
 * @example
 * ```ts
 * import { parseStatusRanges, statusExpected } from "./expect.ts";
 * const ranges = parseStatusRanges("200-204, 301");
 * console.assert(statusExpected(ranges, 301) && !statusExpected(ranges, 205));
 * ```
 */
export function parseStatusRanges(text: string): StatusRanges {
  const items = text.split(",").map((item) => item.trim()).filter((item) => item !== "");
  if (items.length === 0) throw new Error("is empty: give codes or ranges, e.g. 200-299,301");
  return items.map((item): [number, number] => {
    const range = /^(\S+?)\s*-\s*(\S+)$/.exec(item);
    if (!range) {
      const code = statusCode(item, item);
      return [code, code];
    }
    const low = statusCode(range[1], item);
    const high = statusCode(range[2], item);
    if (low > high) throw new Error(`${echo(item)}: the range runs backwards`);
    return [low, high];
  });
}

/** True when `code` is in one of the ranges. */
export function statusExpected(ranges: StatusRanges, code: number): boolean {
  return ranges.some(([low, high]) => code >= low && code <= high);
}

/** The ranges as written in messages: `200-299,301`. */
export function describeRanges(ranges: StatusRanges): string {
  return ranges.map(([low, high]) => (low === high ? `${low}` : `${low}-${high}`)).join(",");
}

/** What the body must hold: a substring, or a regular expression (source and flags). */
export type BodyMatch =
  | { kind: "substring"; text: string }
  | { kind: "regex"; source: string; flags: string };

/**
 * A body match as written: `/…/` with optional flags (`i`, `m`, `s`, `u`) is
 * a regular expression, anything else a substring (taken as written, blanks
 * included). Throws an `Error` for a regular expression that does not
 * compile.
 */
export function parseBodyMatch(text: string): BodyMatch {
  const regex = /^\/(.+)\/([a-z]*)$/s.exec(text);
  if (!regex) return { kind: "substring", text };
  const [, source, flags] = regex;
  if (!/^[imsu]*$/.test(flags) || new Set(flags).size !== flags.length) {
    throw new Error(`${echo(text)}: the flags after the last "/" may be i, m, s and u, once each`);
  }
  try {
    new RegExp(source, flags);
  } catch (error) {
    throw new Error(`${echo(text)} is not a valid regular expression: ${(error as Error).message}`);
  }
  return { kind: "regex", source, flags };
}

/** True when the body text holds the match. */
export function bodyMatches(match: BodyMatch, body: string): boolean {
  return match.kind === "substring"
    ? body.includes(match.text)
    : new RegExp(match.source, match.flags).test(body);
}

/** The match as messages name it: `"text"` or `/regex/i`. */
export function describeMatch(match: BodyMatch): string {
  return match.kind === "substring" ? echo(match.text) : `/${match.source}/${match.flags}`;
}
