// How the repository's scripts bundle TypeScript from the sources (the
// "@irqlab/source" export condition) into one ESM file for Node: the bench
// files (scripts/bench.mjs), the fuzzer (scripts/fuzz.mjs) and a bench that
// bundles a command to run it as a process. Spread into esbuild's options
// next to entryPoints and outfile.
export const SOURCE_BUNDLE = Object.freeze({
  bundle: true,
  format: "esm",
  platform: "node",
  target: "node20",
  conditions: ["@irqlab/source"],
  logLevel: "error",
});
