/**
 * The rules packed-packages.test.ts applies to every tarball, each shown
 * failing on a small package that breaks it (and a clean package passing).
 */
import { describe, expect, test } from "vitest";
import { importSpecifiers, isTextFile, shippedFileProblems, type ShippedPackage } from "./shipped-files.js";

const CLEAN: Record<string, string> = {
  "package.json": JSON.stringify({ name: "@irqlab/demo", dependencies: { "@irqlab/sim": "*" } }),
  "README.md": "# demo\n\nSee [the notes](src/notes/README.md#how-it-works), ![a diagram](docs/diagram.png) and [npm](https://www.npmjs.com/).\n",
  "src/notes/README.md": "# Notes\n\n## How it works\n\nBack to [the README](../../README.md).\n",
  "dist/index.js": 'import { op } from "@irqlab/sim";\nimport { readFileSync } from "node:fs";\nexport { helper } from "./chunk-AB12.js";\n/** Reads [the notes](../src/notes/README.md). */\nexport const x = [op, readFileSync];\n',
  "dist/index.d.ts": 'import { Tracer } from "@irqlab/sim";\nexport { helper } from "./chunk-AB12.js";\nexport declare const tracer: Tracer;\nexport declare const text = "from \\"nowhere\\"";\n',
  "dist/chunk-AB12.js": "export const helper = 1;\n",
  "dist/chunk-AB12.d.ts": "export declare const helper = 1;\n",
  "dist/index.js.map": JSON.stringify({ version: 3, sources: ["../src/index.ts"], sourcesContent: ["/** The demo (Linux virt/kvm/eventfd.c irqfd_wakeup). */\nexport const x = 1;\n"] }),
};

/** The clean package with some files replaced or added (undefined removes one). */
function pkg(changes: Record<string, string | undefined> = {}): ShippedPackage {
  const files = { ...CLEAN, ...changes };
  const paths = new Set([...Object.keys(files).filter((p) => files[p] !== undefined), "docs/diagram.png"]);
  const texts = new Map([...paths].filter(isTextFile).map((p) => [p, files[p]!] as const));
  return { name: "@irqlab/demo", dependencies: ["@irqlab/sim"], paths, texts };
}

describe("shippedFileProblems", () => {
  test("a self-contained package has none", () => {
    expect(shippedFileProblems(pkg())).toEqual([]);
  });

  test("relative links and images must resolve inside the package, fragments to a heading", () => {
    expect(shippedFileProblems(pkg({ "README.md": "[sim](../sim/README.md#chrome-traces)\n" }))).toEqual([
      "README.md: link to ../sim/README.md#chrome-traces (not in the package)",
    ]);
    expect(shippedFileProblems(pkg({ "README.md": "![plot](docs/plot.png) and [ex](examples/a.yaml)\n" }))).toEqual([
      "README.md: link to docs/plot.png (not in the package)",
      "README.md: link to examples/a.yaml (not in the package)",
    ]);
    expect(shippedFileProblems(pkg({ "README.md": "[notes](src/notes/README.md#why)\n" }))).toEqual([
      "README.md: link to src/notes/README.md#why (no such heading)",
    ]);
    expect(shippedFileProblems(pkg({ "dist/index.d.ts": "/** See [DESIGN](../../../docs/DESIGN.md). */\nexport {};\n" }))).toEqual([
      "dist/index.d.ts: link to ../../../docs/DESIGN.md (not in the package)",
    ]);
  });

  test("imports must stay in the package or name a dependency", () => {
    expect(shippedFileProblems(pkg({ "dist/chunk-AB12.d.ts": undefined }))).toEqual([
      "dist/index.d.ts: imports ./chunk-AB12.js (not in the package)",
    ]);
    expect(shippedFileProblems(pkg({ "dist/chunk-AB12.js": 'export { helper } from "../../kvm/src/helper.js";\nimport "@irqlab/kvm";\n' }))).toEqual([
      "dist/chunk-AB12.js: imports ../../kvm/src/helper.js (not in the package)",
      "dist/chunk-AB12.js: imports @irqlab/kvm (not a dependency)",
    ]);
    expect(importSpecifiers('import type { A } from "a";\nexport * from "./b.js";\nimport "c";\nconst d = import("d");\nexport const e = "f";\n')).toEqual(["a", "./b.js", "c", "d"]);
    expect(importSpecifiers('var g=require("g"),h=require( "./h.cjs" );')).toEqual(["g", "./h.cjs"]);
  });

  test("a source map must carry its sources", () => {
    const map = JSON.stringify({ version: 3, sources: ["../src/index.ts"], mappings: "" });
    expect(shippedFileProblems(pkg({ "dist/index.js.map": map }))).toEqual([
      "dist/index.js.map (../src/index.ts): no sourcesContent, so the map needs a file the package lacks",
    ]);
  });

  test("internal paths, absolute paths, issue numbers and unfinished-work notes are refused, in sources too", () => {
    const problems = (text: string) => shippedFileProblems(pkg({ "dist/chunk-AB12.js": `${text}\nexport const helper = 1;\n` }));
    expect(problems("// value from reference/linux-kvm.md")).toEqual([
      'dist/chunk-AB12.js:1: a path into the repository\'s reference/ or shared/ folder: "// value from reference/linux-kvm.md export const help"',
    ]);
    expect(problems("// see ../shared/notes.md")[0]).toMatch(/reference\/ or shared\/ folder: "\/\/ see \.\.\/shared\/notes/);
    expect(problems("// the notes (../shared)")[0]).toMatch(/reference\/ or shared\/ folder/);
    expect(problems('const p = "/work/main/packages/kvm";')[0]).toMatch(/absolute path/);
    expect(problems('const p = "C:\\\\Users\\\\me";')[0]).toMatch(/absolute path/);
    expect(problems("// fixes issue #12")[0]).toMatch(/issue or ticket number/);
    expect(problems("// TODO: the ITS")[0]).toMatch(/unfinished work/);
    expect(problems("/* vLPI support in progress */")[0]).toMatch(/unfinished work/);
    const source = JSON.stringify({ version: 3, sources: ["../src/index.ts"], sourcesContent: ["// FIXME later\n"] });
    expect(shippedFileProblems(pkg({ "dist/index.js.map": source }))).toEqual([
      'dist/index.js.map (../src/index.ts):1: a note of unfinished work: "// FIXME later"',
    ]);
    // Device-tree and device paths, URLs and shebangs are not the build machine's.
    expect(problems('#!/usr/bin/env node\nconst a = ["/soc/serial@10000000", "/dev/kvm", "https://example.org/home/x"];')).toEqual([]);
  });
});
