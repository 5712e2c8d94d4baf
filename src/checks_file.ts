/**
 * The checks file (`AGENT_CHECKS_FILE`, YAML or JSON): several instances per
 * module, each with its name, interval, timeout, labels and the module's
 * options under the keys the mapping rule gives (`POSTGRES_HOST` is `host`).
 * Every problem names the file, line and column. Problems of the file's
 * structure (not YAML, an unknown module, a bad name or label) are
 * agent-wide; a problem inside one instance (an unknown key, a wrong type)
 * stays with that instance, which then reports `reason: "config"`.
 *
 * Pure: the text comes in, nothing is read here.
 *
 * @module
 */

import { isMap, isScalar, isSeq, LineCounter, type Node, type Pair, parseDocument } from "yaml";
import type { CheckModule } from "./check.ts";
import { echo } from "./config_values.ts";
import { didYouMean } from "./suggest.ts";

/** One value from the file and where it stands (`file:line:col`). */
export interface FileValue {
  value: string;
  where: string;
}

/** One instance as the file describes it. */
export interface FileInstance {
  module: CheckModule<unknown>;
  /** Its name: as written, or `<module>`, `<module>-2` … in file order. */
  name: string;
  /** Where the instance's entry starts. */
  where: string;
  interval?: FileValue;
  timeout?: FileValue;
  /** Its own labels (the file-wide ones are merged in later). */
  labels: Record<string, string>;
  /** Module options by file key (`host`, `password_file` …), as text. */
  options: Map<string, FileValue>;
  /** Problems inside this instance, each `file:line:col: …`. */
  problems: string[];
}

/** What the file holds. */
export interface ChecksFile {
  /** Labels merged into every instance's (the instance's win). */
  labels: Record<string, string>;
  instances: FileInstance[];
  /** Agent-wide problems, each `file:line:col: …`; any of them stops start-up. */
  problems: string[];
}

/** Instance names: what Prometheus and file names take without quoting. */
export const INSTANCE_NAME = /^[a-z0-9][a-z0-9_.-]{0,62}$/;
/** Label names, as Prometheus allows them. */
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
/** Labels the agent sets itself on every series and event. */
export const RESERVED_LABELS = ["agent", "module", "instance", "target", "status", "reason"];
/** Keys every instance may have besides its module's options. */
const INSTANCE_KEYS = ["module", "name", "interval_seconds", "timeout_seconds", "labels"];
/** More instances than this are refused: far beyond any real agent, and bounded memory. */
export const MAX_INSTANCES = 10_000;

/** Parses the checks file's text; never throws for bad input. */
export function parseChecksFile(
  file: string,
  text: string,
  modules: ReadonlyMap<string, CheckModule<unknown>>,
): ChecksFile {
  const lines = new LineCounter();
  const where = (node: { range?: [number, number, number] | null } | null | undefined) => {
    const { line, col } = lines.linePos(node?.range?.[0] ?? 0);
    return `${file}:${line}:${col}`;
  };
  const result: ChecksFile = { labels: {}, instances: [], problems: [] };
  const problem = (node: Parameters<typeof where>[0], message: string) =>
    result.problems.push(`${where(node)}: ${message}`);

  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  for (const error of doc.errors) {
    const { line, col } = lines.linePos(error.pos[0]);
    const what = error.code === "DUPLICATE_KEY" ? "a key is given twice" : "not valid YAML";
    result.problems.push(`${file}:${line}:${col}: ${what}: ${error.message.split("\n")[0]}`);
  }
  if (doc.errors.length > 0) return result;
  const root = doc.contents;
  if (root === null) return result; // an empty file: no instances
  if (!isMap(root)) {
    problem(root, "must be a mapping with the keys labels and checks");
    return result;
  }
  let checks: Node | null = null;
  for (const pair of root.items as Pair<Node, Node | null>[]) {
    const key = keyText(pair);
    if (key === "labels") result.labels = readLabels(pair.value, problem);
    else if (key === "checks") checks = pair.value;
    else problem(pair.key, `unknown key ${echo(key)}${didYouMean(key, ["labels", "checks"])}`);
  }
  if (checks === null || (isScalar(checks) && checks.value === null)) return result;
  if (!isSeq(checks)) {
    problem(checks, "checks must be a list of instances (- module: …)");
    return result;
  }
  if (checks.items.length > MAX_INSTANCES) {
    problem(checks, `checks holds ${checks.items.length} instances; at most ${MAX_INSTANCES}`);
    return result;
  }
  const unnamed = new Map<string, number>();
  for (const item of checks.items as (Node | null)[]) {
    const instance = readInstance(item, modules, problem, where);
    if (!instance) continue;
    if (instance.name === "") {
      const n = (unnamed.get(instance.module.name) ?? 0) + 1;
      unnamed.set(instance.module.name, n);
      instance.name = n === 1 ? instance.module.name : `${instance.module.name}-${n}`;
    }
    result.instances.push(instance);
  }
  return result;
}

type Problem = (node: { range?: [number, number, number] | null } | null, message: string) => void;

function keyText(pair: Pair<Node, unknown>): string {
  return isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
}

/** A scalar as text; undefined for null (an empty value is as good as none). */
function scalarText(node: Node | null): string | undefined {
  if (!isScalar(node) || node.value === null) return undefined;
  return String(node.value);
}

function readLabels(node: Node | null, problem: Problem): Record<string, string> {
  const labels: Record<string, string> = {};
  if (node === null || (isScalar(node) && node.value === null)) return labels;
  if (!isMap(node)) {
    problem(node, "labels must be a mapping of names to string values");
    return labels;
  }
  for (const pair of node.items as Pair<Node, Node | null>[]) {
    const name = keyText(pair);
    if (!LABEL_NAME.test(name) || name.startsWith("__")) {
      problem(pair.key, `label name ${echo(name)} must match [a-zA-Z_][a-zA-Z0-9_]*`);
      continue;
    }
    if (RESERVED_LABELS.includes(name)) {
      problem(pair.key, `label ${echo(name)} is set by the agent itself; choose another name`);
      continue;
    }
    const value = scalarText(pair.value);
    if (value === undefined || isMap(pair.value) || isSeq(pair.value)) {
      problem(pair.value ?? pair.key, `label ${name} must have a string value`);
      continue;
    }
    labels[name] = value;
  }
  return labels;
}

function readInstance(
  item: Node | null,
  modules: ReadonlyMap<string, CheckModule<unknown>>,
  problem: Problem,
  where: (node: Node | null) => string,
): FileInstance | undefined {
  if (!isMap(item)) {
    problem(item, "each entry of checks must be a mapping with at least module: …");
    return undefined;
  }
  const pairs = item.items as Pair<Node, Node | null>[];
  const modulePair = pairs.find((p) => keyText(p) === "module");
  const moduleName = modulePair ? scalarText(modulePair.value) : undefined;
  if (moduleName === undefined) {
    problem(item, "this instance has no module: key");
    return undefined;
  }
  const module = modules.get(moduleName.toLowerCase());
  if (!module) {
    problem(
      modulePair!.value,
      `unknown module ${echo(moduleName)}${didYouMean(moduleName, modules.keys())} (available: ${
        [...modules.keys()].join(", ")
      })`,
    );
    return undefined;
  }
  const instance: FileInstance = {
    module,
    name: "",
    where: where(item),
    labels: {},
    options: new Map(),
    problems: [],
  };
  const optionKinds = new Map<string, string>();
  for (const option of module.options) {
    optionKinds.set(option.name, option.kind);
    if (option.secret) optionKinds.set(`${option.name}_file`, "path");
  }
  const known = [...INSTANCE_KEYS, ...optionKinds.keys()];
  const local = (node: Node | null, message: string) =>
    instance.problems.push(`${where(node)}: ${message}`);
  for (const pair of pairs) {
    const key = keyText(pair);
    const value = pair.value;
    if (key === "module") continue;
    if (key === "labels") {
      instance.labels = readLabels(value, problem);
    } else if (key === "name") {
      const name = scalarText(value);
      if (name === undefined || !INSTANCE_NAME.test(name)) {
        problem(value ?? pair.key, `name ${echo(name ?? "")} must match [a-z0-9][a-z0-9_.-]{0,62}`);
        return undefined;
      }
      instance.name = name;
    } else if (key === "interval_seconds" || key === "timeout_seconds") {
      const text = scalarText(value);
      if (text === undefined || !isScalar(value)) {
        local(value ?? pair.key, `${key} must be a number of seconds`);
        continue;
      }
      instance[key === "interval_seconds" ? "interval" : "timeout"] = {
        value: text,
        where: where(value),
      };
    } else if (optionKinds.has(key)) {
      const text = optionText(key, optionKinds.get(key)!, value, local);
      if (text !== undefined) {
        instance.options.set(key, { value: text, where: where(value ?? pair.key) });
      }
    } else {
      local(
        pair.key,
        `unknown key ${echo(key)} for module ${module.name}${didYouMean(key, known)}`,
      );
    }
  }
  return instance;
}

/** An option's value as the text its environment variable would hold. */
function optionText(
  key: string,
  kind: string,
  node: Node | null,
  local: (node: Node | null, message: string) => void,
): string | undefined {
  if (node === null || (isScalar(node) && node.value === null)) return undefined;
  if (isSeq(node)) {
    if (kind !== "list") {
      local(node, `${key} must be a single value, not a list`);
      return undefined;
    }
    const items: string[] = [];
    for (const item of node.items as (Node | null)[]) {
      const text = scalarText(item);
      if (text === undefined || !isScalar(item)) {
        local(item, `each item of ${key} must be a single value`);
        return undefined;
      }
      if (text.includes(",")) {
        local(item, `an item of ${key} holds a comma: give the items as a list or a comma string`);
        return undefined;
      }
      items.push(text);
    }
    return items.join(",");
  }
  if (isMap(node)) {
    local(
      node,
      `${key} must be ${kind === "list" ? "a list or a string" : "a single value"}, not a mapping`,
    );
    return undefined;
  }
  return scalarText(node);
}
