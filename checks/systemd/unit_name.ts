/**
 * Unit names from the configuration, checked against systemd's own rules
 * before anything reaches `systemctl`.
 *
 * systemd allows letters, digits and `: - _ . \ @` in unit names (its
 * `unit_name_is_valid()`), so a valid name can hold no space, quote, `$`, `;`,
 * `*` or anything else a shell or a glob would read. A leading `-` is refused
 * too, although systemd would accept it: on a command line it reads as an
 * option. A name without a type suffix gets `.service`, as systemctl itself
 * does; passing the full name also keeps a bare number (`123`, `0x1f`) from
 * being read as a job id by `systemctl show`.
 *
 * @module
 */

/** The unit types systemd knows (its `unit_type_table`). */
export const UNIT_TYPES: readonly string[] = [
  "service",
  "socket",
  "target",
  "device",
  "mount",
  "automount",
  "swap",
  "timer",
  "path",
  "slice",
  "scope",
];

/** systemd's `UNIT_NAME_MAX` is 256 including the terminating NUL. */
const MAX_LENGTH = 255;

const ALLOWED = /^[A-Za-z0-9:_.\\@-]$/;

/** A checked name: the full unit name to pass to systemctl, or why it is refused. */
export type UnitNameCheck = { ok: true; unit: string } | { ok: false; reason: string };

/**
 * Checks one configured name and returns the full unit name.
 *
 * @example
 * ```ts
 * import { checkUnitName } from "./unit_name.ts";
 * const ssh = checkUnitName("ssh");
 * console.assert(ssh.ok && ssh.unit === "ssh.service");
 * console.assert(!checkUnitName("-H").ok);
 * ```
 */
export function checkUnitName(name: string): UnitNameCheck {
  if (name === "") return { ok: false, reason: "it is empty" };
  if (name.startsWith("-")) {
    return { ok: false, reason: 'it starts with "-", which systemctl would read as an option' };
  }
  const bad = [...new Set([...name].filter((c) => !ALLOWED.test(c)))];
  if (bad.length > 0) {
    return {
      ok: false,
      reason: `it holds ${
        bad.map(describe).join(", ")
      }; unit names may hold only letters, digits and : - _ . \\ @`,
    };
  }
  const dot = name.lastIndexOf(".");
  const hasType = dot >= 0 && UNIT_TYPES.includes(name.slice(dot + 1));
  if (hasType && dot === 0) {
    return { ok: false, reason: "there is no name before the type suffix" };
  }
  const unit = hasType ? name : `${name}.service`;
  if (unit.startsWith("@")) {
    return { ok: false, reason: 'it starts with "@" (a template needs a name before the "@")' };
  }
  if (unit.length > MAX_LENGTH) {
    return { ok: false, reason: `it is longer than ${MAX_LENGTH} characters` };
  }
  return { ok: true, unit };
}

function describe(char: string): string {
  if (char === " ") return "a space";
  const code = char.codePointAt(0) ?? 0;
  if (code < 0x20 || code === 0x7f) return `a control character (U+${hex(code)})`;
  return JSON.stringify(char);
}

function hex(code: number): string {
  return code.toString(16).toUpperCase().padStart(4, "0");
}
