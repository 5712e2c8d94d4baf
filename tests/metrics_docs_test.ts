/**
 * README's metrics section is held to the tools and the code: its scrape
 * config and alert rules pass `promtool check config` / `check rules`,
 * its alerts name series the agent exports, and its variables are the ones
 * the configuration reads.
 */

import assert from "node:assert/strict";
import { METRICS_ENV } from "../src/metrics/config.ts";
import { AGENT_FAMILIES, CHECK_FAMILIES, REMOTE_WRITE_FAMILIES } from "../src/metrics/families.ts";
import { skipUnlessAvailable } from "./support/binaries.ts";
import { PROMTOOL } from "./support/metrics_servers.ts";
import { ROOT } from "./support/processes.ts";

async function section(): Promise<string> {
  const readme = await Deno.readTextFile(ROOT + "README.md");
  const start = readme.indexOf("## Metrics: Prometheus");
  assert.ok(start >= 0, "README has no metrics section");
  const end = readme.indexOf("\n## ", start + 1);
  return readme.slice(start, end);
}

function yamlBlocks(text: string): string[] {
  return [...text.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]);
}

async function promtool(args: string[]): Promise<{ code: number; output: string }> {
  const { code, stdout, stderr } = await new Deno.Command(PROMTOOL, { args, stdin: "null" })
    .output();
  return { code, output: new TextDecoder().decode(stdout) + new TextDecoder().decode(stderr) };
}

Deno.test({
  name: "README's scrape config and alert rules pass promtool",
  ignore: skipUnlessAvailable(PROMTOOL),
  async fn() {
    const [scrape, rules] = yamlBlocks(await section());
    assert.match(scrape, /honor_labels: true/);
    const dir = await Deno.makeTempDir({ prefix: "kozak-promtool-" });
    try {
      await Deno.writeTextFile(`${dir}/rules.yml`, rules);
      await Deno.writeTextFile(`${dir}/prometheus.yml`, `${scrape}rule_files: [rules.yml]\n`);
      const config = await promtool(["check", "config", `${dir}/prometheus.yml`]);
      assert.equal(config.code, 0, config.output);
      const checked = await promtool(["check", "rules", `${dir}/rules.yml`]);
      assert.equal(checked.code, 0, checked.output);
      assert.match(checked.output, /SUCCESS: 2 rules found/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("README's metrics section names the series the agent exports and the variables it reads", async () => {
  const text = await section();
  const [, rules] = yamlBlocks(text);
  assert.match(rules, /expr: kozak_check_up == 0\n\s+for: 2m/);
  assert.match(rules, /increase\(kozak_queue_dropped_total\[10m\]\) > 0/);
  for (
    const family of [CHECK_FAMILIES, AGENT_FAMILIES, REMOTE_WRITE_FAMILIES].flatMap(Object.values)
  ) {
    assert.ok(text.includes(`\`${family.name}\``), `README does not name ${family.name}`);
  }
  for (const name of METRICS_ENV) {
    if (name.endsWith("_FILE")) continue; // named beside its secret
    assert.ok(text.includes(`\`${name}\``), `README does not name ${name}`);
  }
});
