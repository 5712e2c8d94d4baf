/**
 * Debian's Chromium, headless, driven by playwright-core for the page tests:
 * a fresh profile in a temp dir, every background service of the browser off,
 * and every request the pages make checked against loopback (anything else is
 * aborted and recorded).
 *
 * @module
 */

import type { BrowserContext } from "playwright-core";
import { findBinary } from "./binaries.ts";

/** Where Debian's chromium package puts its launcher. */
export const CHROMIUM = "/usr/bin/chromium";

/** Flags that keep the browser from talking to anything on its own. */
export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox", // the tests run as root, where Chromium's sandbox refuses to start
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** A running headless Chromium. */
export interface Browser {
  context: BrowserContext;
  /** Every URL a page requested, in order. */
  requests: string[];
  /** The requests to anything but loopback (aborted). */
  outside: string[];
  /** Closes the browser and removes its profile. */
  close(): Promise<void>;
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|\[::1\]|localhost)$/;

/** Whether a URL stays on this host (`data:` and `blob:` never leave it). */
export function isLoopback(url: string): boolean {
  const parsed = new URL(url);
  if (parsed.protocol === "data:" || parsed.protocol === "blob:") return true;
  return LOOPBACK.test(parsed.hostname);
}

/** Starts Chromium with a fresh `--user-data-dir` under `dir`. */
export async function launchChromium(dir: string): Promise<Browser> {
  if (findBinary(CHROMIUM) === undefined) throw new Error(`${CHROMIUM} is missing`);
  // playwright-core's bundled is-wsl probes /proc/sys/fs/binfmt_misc at import, which Deno
  // grants only with --allow-all; set, this variable defers the probe until asked (never here).
  Deno.env.set("__IS_WSL_TEST__", "1");
  const { chromium } = await import("playwright-core");
  const profile = `${dir}/chromium-profile`;
  // A persistent context is how playwright takes a --user-data-dir of ours.
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1360, height: 860 },
  });
  const requests: string[] = [];
  const outside: string[] = [];
  await context.route("**/*", async (route) => {
    const url = route.request().url();
    requests.push(url);
    if (isLoopback(url)) return await route.continue();
    outside.push(url);
    await route.abort("blockedbyclient");
  });
  return {
    context,
    requests,
    outside,
    close: async () => {
      await context.close();
      await Deno.remove(profile, { recursive: true }).catch(() => {});
    },
  };
}
