/**
 * Validation of agent events against `schema/event.schema.json` (JSON Schema
 * draft-07) with ajv. Used by the tests and by the mock monitoring server.
 *
 * @module
 */

import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import schema from "../schema/event.schema.json" with { type: "json" };

/** The result of {@link validateEvent}: ok, or readable errors naming the fields. */
export type ValidationResult = { ok: true } | { ok: false; errors: string[] };

let compiled: ValidateFunction | undefined;

function validator(): ValidateFunction {
  // allErrors: report every bad field at once; verbose: keep the offending value.
  compiled ??= new Ajv({ allErrors: true, verbose: true }).compile(schema);
  return compiled;
}

/**
 * Checks one event (a parsed JSON value) against the event schema.
 *
 * Each error names the field by its JSON pointer and, where useful, shows the
 * value, e.g. `/status must be equal to one of the allowed values (got "bad")`.
 *
 * @example
 * ```ts
 * import { validateEvent } from "./schema.ts";
 * const r = validateEvent({ type: "nope" });
 * if (!r.ok) console.log(r.errors.join("; "));
 * ```
 */
export function validateEvent(value: unknown): ValidationResult {
  const validate = validator();
  if (validate(value)) return { ok: true };
  const errors: string[] = [];
  for (const error of validate.errors ?? []) {
    const text = renderError(error);
    if (text !== undefined && !errors.includes(text)) errors.push(text);
  }
  // Never "invalid" without a reason, even if every error was a wrapper.
  return { ok: false, errors: errors.length > 0 ? errors : ["event does not match the schema"] };
}

/** One ajv error as a readable sentence; `undefined` for wrapper errors (`if`). */
function renderError(error: ErrorObject): string | undefined {
  const path = error.instancePath || "(event)";
  const parent = (error.parentSchema ?? {}) as {
    description?: string;
    title?: string;
    $comment?: string;
  };
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case "if":
      return undefined; // "must match then schema": the errors inside say what is wrong
    case "required": {
      const when = parent.$comment ? ` ${parent.$comment}` : "";
      return `${pointer(error.instancePath, String(params.missingProperty))} is required${when}`;
    }
    case "additionalProperties":
      return `${
        pointer(error.instancePath, String(params.additionalProperty))
      } is not an allowed field`;
    case "not":
      return `${path} ${parent.description ?? "must not be present"}${got(error)}`;
    case "pattern":
      return `${path} must be ${parent.title ?? `a string matching ${params.pattern}`}${
        got(error)
      }`;
    case "const":
      return `${path} must be ${JSON.stringify(params.allowedValue)}${got(error)}`;
    case "enum":
      return `${path} ${error.message} (${
        (params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(", ")
      }${got(error, ";")})`;
    default:
      return `${path} ${error.message}${got(error)}`;
  }
}

/** ` (got <value>)`, the value shortened to keep the sentence readable. */
function got(error: ErrorObject, prefix?: string): string {
  if (error.data === undefined) return "";
  const value = error.data;
  let text = typeof value === "number" && !Number.isFinite(value)
    ? String(value) // JSON.stringify would say null
    : JSON.stringify(value) ?? String(value);
  if (text.length > 60) text = `${text.slice(0, 57)}...`;
  return prefix ? `${prefix} got ${text}` : ` (got ${text})`;
}

/** JSON pointer of a child field (escaping `~` and `/` as RFC 6901 says). */
function pointer(parent: string, key: string): string {
  return `${parent}/${key.replaceAll("~", "~0").replaceAll("/", "~1")}`;
}
