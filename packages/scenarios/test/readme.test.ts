// The README's example: the same calls print the lines the README shows.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect, test } from "vitest";
import { findScenario, renderCompare, runScenario } from "../src/index.js";

test("README example", () => {
  const readme = readFileSync(join(import.meta.dirname, "..", "README.md"), "utf8");
  const block = /```ts\n([\s\S]*?)```/.exec(readme)![1]!;
  expect(block).toContain('const report = runScenario(findScenario("003")!, { seed: 0 });\nconsole.log(renderCompare(report));');
  const shown = block
    .split("\n")
    .filter((l) => l.startsWith("//"))
    .map((l) => l.slice(3))
    .filter((l) => l !== "...");
  const lines = renderCompare(runScenario(findScenario("003")!, { seed: 0 })).split("\n");
  for (const l of shown) expect(lines).toContain(l);
});
