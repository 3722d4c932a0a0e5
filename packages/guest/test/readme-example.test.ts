// Runs the README's example.mjs, as written, against the sources: its imports
// of "@irqlab/fdt" and "@irqlab/guest" are bound to the packages' src/index.ts,
// its console.log captured, and the output compared with the text the README
// says it prints.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { format } from "node:util";
import { expect, test } from "vitest";
import * as fdt from "@irqlab/fdt";
import * as guest from "../src/index.js";

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
  let code = block("js", "`example.mjs`");
  const expected = block("text", "`node example.mjs` prints:");
  const modules: Record<string, Record<string, unknown>> = { "@irqlab/fdt": fdt, "@irqlab/guest": guest };
  const names: string[] = [];
  const values: unknown[] = [];
  for (const [spec, exports] of Object.entries(modules)) {
    const imports = new RegExp(`^import \\{([^}]*)\\} from "${spec}";\\n`, "m").exec(code);
    expect(imports, `the example imports from ${spec}`).not.toBeNull();
    for (const n of imports![1]!.split(",").map((s) => s.trim())) {
      expect(exports[n], `${n} is exported by ${spec}`).toBeDefined();
      names.push(n);
      values.push(exports[n]);
    }
    code = code.replace(imports![0], "");
  }
  const printed: string[] = [];
  const console = { log: (...args: unknown[]) => printed.push(`${format(...args)}\n`) };
  // eslint-disable-next-line @typescript-eslint/no-implied-eval -- running the README's own code is the point
  const run = new Function(...names, "console", code) as (...args: unknown[]) => void;
  run(...values, console);
  expect(printed.join("")).toBe(expected);
});
