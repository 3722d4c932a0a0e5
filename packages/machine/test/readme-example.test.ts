// Runs the README's example.mjs, as written, against the sources: its imports
// of "@irqlab/machine" and "@irqlab/sim" are bound to the packages, its
// console.log captured, and the output compared with what the README says it prints.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { format } from "node:util";
import * as sim from "@irqlab/sim";
import { expect, test } from "vitest";
import * as machine from "../src/index.js";

const readme = readFileSync(join(import.meta.dirname, "..", "README.md"), "utf8");

function block(lang: string, marker: string): string {
  const from = readme.indexOf(marker);
  expect(from, `README has no ${marker}`).toBeGreaterThanOrEqual(0);
  const m = new RegExp("```" + lang + "\\n([\\s\\S]*?)```").exec(readme.slice(from));
  expect(m, `README has no ${lang} block after ${marker}`).not.toBeNull();
  return m![1]!;
}

test("the README example prints what the README says", () => {
  let code = block("js", "`example.mjs`:");
  const expected = block("text", "`node example.mjs` prints:");
  const bound: Record<string, unknown> = {};
  for (const [pkg, mod] of [["machine", machine], ["sim", sim]] as const) {
    const imp = new RegExp(`^import \\{([^}]*)\\} from "@irqlab/${pkg}";\\n`, "m").exec(code);
    expect(imp, `the example imports from @irqlab/${pkg}`).not.toBeNull();
    for (const n of imp![1]!.split(",").map((s) => s.trim())) {
      const v = (mod as Record<string, unknown>)[n];
      expect(v, `${n} is exported by @irqlab/${pkg}`).toBeDefined();
      bound[n] = v;
    }
    code = code.replace(imp![0], "");
  }
  const printed: string[] = [];
  const console = { log: (...args: unknown[]) => printed.push(`${format(...args)}\n`) };
  const names = Object.keys(bound);
  // eslint-disable-next-line @typescript-eslint/no-implied-eval -- running the README's own code is the point
  const run = new Function(...names, "console", code) as (...args: unknown[]) => void;
  run(...names.map((n) => bound[n]), console);
  expect(printed.join("")).toBe(expected);
});
