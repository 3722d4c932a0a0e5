/**
 * DESIGN.md, "Time": no wall clock, no timers and no Math.random inside the
 * models. Every package's sources are scanned for the APIs that would break
 * "same inputs and seed give a byte-identical trace". Apps may use them (the
 * CLI writes files, a benchmark times itself); packages may not.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, test } from "vitest";

const root = join(import.meta.dirname, "..");

/** Patterns that read the wall clock, schedule real timers or draw unseeded randomness. */
export const FORBIDDEN: readonly [RegExp, string][] = [
  [/\bMath\.random\s*\(/, "Math.random"],
  [/\bDate\.now\s*\(/, "Date.now"],
  [/\bnew Date\s*\(/, "new Date"],
  [/\bperformance\.now\s*\(/, "performance.now"],
  [/\bprocess\.hrtime\b/, "process.hrtime"],
  [/\b(setTimeout|setInterval|setImmediate)\s*\(/, "real timers"],
  [/\bcrypto\.(getRandomValues|randomUUID|randomBytes)\b/, "crypto randomness"],
];

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...sources(p));
    else if (name.endsWith(".ts") && !name.endsWith(".test.ts")) out.push(p);
  }
  return out;
}

/** Strips comments so that prose about Math.random does not count. */
function code(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/(^|[^:"'`])\/\/.*$/gm, "$1");
}

/** Every use of a forbidden API in package sources, as "file: API". */
export function findNondeterminism(files: readonly string[]): string[] {
  const hits: string[] = [];
  for (const f of files) {
    const text = code(readFileSync(f, "utf8"));
    for (const [re, what] of FORBIDDEN) if (re.test(text)) hits.push(`${relative(root, f)}: ${what}`);
  }
  return hits;
}

describe("determinism (DESIGN.md: no wall clock, timers or Math.random in models)", () => {
  test("no package source uses them", () => {
    const pkgs = join(root, "packages");
    const files = readdirSync(pkgs).flatMap((p) => {
      const src = join(pkgs, p, "src");
      try {
        return sources(src);
      } catch {
        return [];
      }
    });
    expect(files.length).toBeGreaterThan(10);
    expect(findNondeterminism(files)).toEqual([]);
  });

  test("the scanner sees what it must and ignores comments", () => {
    const patterns = FORBIDDEN.map(([re]) => re);
    const hit = (s: string) => patterns.some((re) => re.test(code(s)));
    expect(hit("const x = Math.random();")).toBe(true);
    expect(hit("setTimeout(() => 1, 5)")).toBe(true);
    expect(hit("const t = Date.now()")).toBe(true);
    expect(hit("// no Math.random() here")).toBe(false);
    expect(hit("/* performance.now() */ const a = 1;")).toBe(false);
    expect(hit("const url = 'http://x'; // comment")).toBe(false);
  });
});
