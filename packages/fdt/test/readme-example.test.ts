// Runs the README's example.mjs, as written, against the sources: its import
// of "@irqlab/fdt" is bound to src/index.ts, its console.log captured, and the
// output compared with the text the README says it prints.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { format } from "node:util";
import { expect, test } from "vitest";
import * as fdt from "../src/index.js";

const readme = readFileSync(join(import.meta.dirname, "..", "README.md"), "utf8");

/** The body of the first fenced block of `lang` after `marker`. */
function block(lang: string, marker: string): string {
  const from = readme.indexOf(marker);
  expect(from, `README has no ${marker}`).toBeGreaterThanOrEqual(0);
  const m = new RegExp("```" + lang + "\\n([\\s\\S]*?)```").exec(readme.slice(from));
  expect(m, `README has no ${lang} block after ${marker}`).not.toBeNull();
  return m![1]!;
}

test("the README example prints what the README says", () => {
  const code = block("js", "`example.mjs`:");
  const expected = block("text", "`node example.mjs` prints:");
  const imports = /^import \{([^}]*)\} from "@irqlab\/fdt";\n/m.exec(code);
  expect(imports, "the example imports from @irqlab/fdt").not.toBeNull();
  const names = imports![1]!.split(",").map((s) => s.trim());
  const exports = fdt as Record<string, unknown>;
  for (const n of names) expect(exports[n], `${n} is exported`).toBeDefined();

  const printed: string[] = [];
  const console = { log: (...args: unknown[]) => printed.push(`${format(...args)}\n`) };
  // eslint-disable-next-line @typescript-eslint/no-implied-eval -- running the README's own code is the point
  const run = new Function(...names, "console", code.replace(imports![0], "")) as (...args: unknown[]) => void;
  run(...names.map((n) => exports[n]), console);
  expect(printed.join("")).toBe(expected);
});
