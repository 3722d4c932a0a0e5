// Runs the example block of README.md exactly as written (imports mapped to this package).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect, test } from "vitest";
import * as gicApi from "./index.js";

test("the README example runs and prints what its comments say", () => {
  const readme = readFileSync(join(import.meta.dirname, "..", "README.md"), "utf8");
  const block = /```(?:ts|js)\n([\s\S]*?)```/.exec(readme)?.[1];
  expect(block).toBeDefined();
  const lines = block!.split("\n");
  expect(lines.filter((l) => l.trim() !== "" && !l.startsWith("import ")).length).toBeLessThanOrEqual(11);
  const imported = /import \{([^}]*)\} from "@irqlab\/gic";/.exec(block!)![1]!.split(",").map((s) => s.trim());
  const body = lines.filter((l) => !l.startsWith("import ")).join("\n");
  const printed: string[] = [];
  const console = { log: (s: string) => printed.push(s) };
  const api = gicApi as unknown as Record<string, unknown>;
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  const run = new Function("console", ...imported, body) as (...args: unknown[]) => void;
  run(console, ...imported.map((name) => api[name]));
  expect(printed).toEqual(["IRQ line of PE 0: true", "IRQ line of PE 0: false", "acknowledged INTID 40"]);
});
