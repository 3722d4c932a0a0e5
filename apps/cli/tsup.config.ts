import { defineConfig, type Options } from "tsup";
import { SHIPPED_COMMAND } from "../../scripts/source-bundle.mjs";

/** The bins: what package.json's "bin" names, each a small ES module that loads one of the bundles below (src/launch). */
export const BINS = {
  irqlab: "src/main.ts",
  "irqlab-system-aarch64": "src/system-aarch64.ts",
  "irqlab-system-riscv64": "src/system-riscv64.ts",
};

const shared: Options = {
  dts: false,
  sourcemap: true,
  target: "node20",
  ...SHIPPED_COMMAND,
  // Taken from their TypeScript sources (the "@irqlab/source" export condition), as the benches
  // take them: the commands build without the packages' own builds and declarations.
  esbuildOptions(options) {
    options.conditions = ["@irqlab/source"];
  },
};

export default defineConfig([
  {
    ...shared,
    entry: BINS,
    format: ["esm"],
    banner: { js: "#!/usr/bin/env node" },
    clean: ["*.js", "*.js.map"],
  },
  {
    ...shared,
    // The commands, as CommonJS scripts: V8's code cache takes a script, not an ES module
    // (src/launch/code-cache.ts). Two, so that the system commands load neither commander nor the
    // scenario files' parsers. The workspace packages go into them, without comments and
    // whitespace (SHIPPED_COMMAND): a start reads and compiles one file, not one per package with
    // its doc comments. Names stay, for readable stacks; the source maps have the sources.
    entry: { "irqlab-main": "src/irqlab-command.ts", "irqlab-system": "src/system-main.ts" },
    format: ["cjs"],
    noExternal: [/^@irqlab\//],
    clean: ["*.cjs", "*.cjs.map"],
  },
]);
