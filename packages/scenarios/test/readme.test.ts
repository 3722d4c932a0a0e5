// The README's example: the same calls print the lines the README says `node example.mjs` prints.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect, test } from "vitest";
import { findScenario, renderCompare, runScenario } from "../src/index.js";

test("README example", () => {
  const readme = readFileSync(join(import.meta.dirname, "..", "README.md"), "utf8");
  const block = /```js\n([\s\S]*?)```/.exec(readme)![1]!;
  expect(block).toContain('const report = runScenario(findScenario("003"), { seed: 0 });');
  const shown = /`node example\.mjs` prints:\n\n```text\n([\s\S]*?)```/.exec(readme)![1]!.trimEnd().split("\n");
  const lines = renderCompare(runScenario(findScenario("003")!, { seed: 0 })).split("\n");
  for (const l of shown) expect(lines).toContain(l);
});
