/**
 * Env files (`.env`, `.env.local`, `AGENT_ENV_FILE`) in the format of the
 * `dotenv` package (16.x), which is what users write them for: `KEY=value`
 * lines, optional `export `, `KEY: value`, values in single, double or back
 * quotes (which may span lines), `\n` and `\r` expanded in double quotes
 * only, `#` comments, no `$VAR` expansion. Written here rather than imported
 * because importing any npm package loads Deno's Node layer (~11 MB) into
 * the agent and the launcher; its test holds it to `npm:dotenv` on a corpus
 * and on random input.
 *
 * @module
 */

/**
 * One assignment: the key, then `=` (with blanks) or `:` and a blank, then a
 * quoted value (its quotes may hold newlines) or a bare one up to a `#` or
 * the end of the line, then an optional comment.
 */
const ASSIGNMENT = new RegExp(
  [
    String.raw`^\s*(?:export\s+)?`,
    String.raw`([\w.-]+)`, // the key
    String.raw`(?:\s*=\s*?|:\s+?)`,
    "(",
    String.raw`\s*'(?:\\'|[^'])*'`,
    String.raw`|\s*"(?:\\"|[^"])*"`,
    String.raw`|\s*` + "`" + String.raw`(?:\\` + "`" + String.raw`|[^` + "`" + String.raw`])*` +
    "`",
    String.raw`|[^#\r\n]+`,
    ")?",
    String.raw`\s*(?:#.*)?$`,
  ].join(""),
  "mg",
);

/**
 * Parses an env file's text into its variables (later assignments win).
 *
 * @example
 * ```ts
 * import { parseDotenv } from "./dotenv.ts";
 * const vars = parseDotenv('A=1\nexport B="two\\nlines" # note\n');
 * console.assert(vars.A === "1" && vars.B === "two\nlines");
 * ```
 */
export function parseDotenv(text: string): Record<string, string> {
  const vars: Record<string, string> = {};
  const source = text.replace(/\r\n?/g, "\n");
  for (const match of source.matchAll(ASSIGNMENT)) {
    let value = (match[2] ?? "").trim();
    const quote = value[0];
    value = value.replace(/^(['"`])([\s\S]*)\1$/gm, "$2");
    if (quote === '"') value = value.replace(/\\n/g, "\n").replace(/\\r/g, "\r");
    vars[match[1]] = value;
  }
  return vars;
}
