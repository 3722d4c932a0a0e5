/**
 * DESIGN.md's layering, enforced: imports point down only, siblings (gic and
 * aia) know nothing of each other, and guest code never reaches kvm or
 * machine. Checks both the import statements in every package's sources and
 * the dependencies each package.json declares.
 */
import { readdirSync, readFileSync, statSync, existsSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, test } from "vitest";

const root = join(import.meta.dirname, "..");

/** For each package, the @irqlab packages it may import. Apps may import anything. */
export const ALLOWED: Record<string, readonly string[]> = {
  sim: [],
  fdt: [],
  gic: ["sim"],
  aia: ["sim"],
  guest: ["sim", "fdt", "gic", "aia"],
  kvm: ["sim", "gic", "aia"],
  // The machine receives a guest image; it never imports the guest package.
  machine: ["sim", "fdt", "gic", "aia", "kvm"],
  scenarios: ["sim", "fdt", "gic", "aia", "kvm", "guest", "machine"],
};

function sourceFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...sourceFiles(p));
    else if (/\.(ts|tsx|js|mjs)$/.test(name)) out.push(p);
  }
  return out;
}

/** The @irqlab packages a source text imports (static, dynamic and type imports, re-exports). */
export function irqlabImports(text: string): string[] {
  const found = new Set<string>();
  const re = /(?:from\s+|import\s*\(\s*|import\s+)["']@irqlab\/([a-z0-9-]+)/g;
  for (const m of text.matchAll(re)) found.add(m[1]!);
  return [...found];
}

/** Every violation of ALLOWED in the repository, as readable strings. */
function violations(): string[] {
  const bad: string[] = [];
  const packagesDir = join(root, "packages");
  for (const pkg of readdirSync(packagesDir)) {
    const allowed = ALLOWED[pkg];
    if (!allowed) {
      bad.push(`packages/${pkg} is not placed in DESIGN.md's layering (add it to ALLOWED)`);
      continue;
    }
    for (const file of sourceFiles(join(packagesDir, pkg, "src")).concat(sourceFiles(join(packagesDir, pkg, "bench")))) {
      for (const imp of irqlabImports(readFileSync(file, "utf8"))) {
        if (imp !== pkg && !allowed.includes(imp)) bad.push(`${relative(root, file)} imports @irqlab/${imp}`);
      }
    }
    const manifest = JSON.parse(readFileSync(join(packagesDir, pkg, "package.json"), "utf8")) as {
      dependencies?: Record<string, string>;
      devDependencies?: Record<string, string>;
    };
    for (const dep of Object.keys({ ...manifest.dependencies, ...manifest.devDependencies })) {
      const m = /^@irqlab\/(.+)$/.exec(dep);
      if (m && !allowed.includes(m[1]!)) bad.push(`packages/${pkg}/package.json depends on ${dep}`);
    }
  }
  return bad;
}

describe("layering (DESIGN.md: imports point down only)", () => {
  test("no package imports a package above or beside it", () => {
    expect(violations()).toEqual([]);
  });

  test("the import scanner sees every import form", () => {
    const text = [
      `import { a } from "@irqlab/kvm";`,
      `import type { B } from '@irqlab/machine';`,
      `export { c } from "@irqlab/gic";`,
      `const d = await import("@irqlab/aia");`,
      `import "@irqlab/guest";`,
      `// "@irqlab/sim" in a comment is not an import`,
    ].join("\n");
    expect(irqlabImports(text).sort()).toEqual(["aia", "gic", "guest", "kvm", "machine"]);
  });

  test("the rules forbid what DESIGN.md forbids", () => {
    expect(ALLOWED.gic).not.toContain("aia");
    expect(ALLOWED.aia).not.toContain("gic");
    expect(ALLOWED.guest).not.toContain("kvm");
    expect(ALLOWED.guest).not.toContain("machine");
    expect(ALLOWED.sim).toEqual([]);
    expect(ALLOWED.fdt).toEqual([]);
    expect(ALLOWED.machine).not.toContain("guest");
    expect(ALLOWED.kvm).not.toContain("fdt");
  });
});
