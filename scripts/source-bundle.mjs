// How the repository's scripts bundle TypeScript from the sources (the
// "@irqlab/source" export condition) into one ESM file for Node: the bench
// files (scripts/bench.mjs), the fuzzer (scripts/fuzz.mjs) and a bench that
// bundles a command to run it as a process. Spread into esbuild's options
// next to entryPoints and outfile.
import { mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { buildSync } from "esbuild";

export const SOURCE_BUNDLE = Object.freeze({
  bundle: true,
  format: "esm",
  platform: "node",
  target: "node20",
  conditions: ["@irqlab/source"],
  logLevel: "error",
});

/**
 * How the commands of apps/cli are shipped (its tsup.config.ts): the code
 * without comments and whitespace, names kept. A bench that runs a command as
 * a process bundles it with these too, so that it measures what a user runs.
 */
export const SHIPPED_COMMAND = Object.freeze({
  minifyWhitespace: true,
  minifySyntax: true,
});

/**
 * How the bins of apps/cli are shipped (its tsup.config.ts), beside
 * SHIPPED_COMMAND: CommonJS scripts in which import.meta.url, through which
 * launch.ts finds the bundles beside the bin, is the script's own file URL.
 * A bench that runs a bin as a process bundles it with these too.
 */
export const SHIPPED_BIN = Object.freeze({
  format: "cjs",
  define: Object.freeze({ "import.meta.url": "importMetaUrl" }),
  // The directive first, or the script would not be strict: esbuild's own comes after the banner.
  banner: Object.freeze({ js: '"use strict";\nconst importMetaUrl = require("node:url").pathToFileURL(__filename).href;' }),
});

/**
 * For a bench that measures a program as a process of its own: bundles
 * `entry` (a path from the repository root) into <repository>/.bench-raw/`name`
 * and returns that file's path; `options` are more esbuild options (a command
 * passes SHIPPED_COMMAND). The repository root is this module's parent
 * directory, here in scripts/ as in .bench-raw/, where scripts/bench.mjs
 * bundles the bench files that import it.
 */
export function bundleForProcess(entry, name, options = {}) {
  const root = join(dirname(fileURLToPath(import.meta.url)), "..");
  const outDir = join(root, ".bench-raw");
  mkdirSync(outDir, { recursive: true });
  const outfile = join(outDir, name);
  buildSync({ ...SOURCE_BUNDLE, ...options, entryPoints: [join(root, entry)], outfile });
  return outfile;
}
