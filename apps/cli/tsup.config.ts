import { defineConfig } from "tsup";
import { SHIPPED_COMMAND } from "../../scripts/source-bundle.mjs";

export default defineConfig({
  entry: {
    irqlab: "src/main.ts",
    "irqlab-system-aarch64": "src/system-aarch64.ts",
    "irqlab-system-riscv64": "src/system-riscv64.ts",
  },
  format: ["esm"],
  dts: false,
  sourcemap: true,
  clean: true,
  target: "node20",
  banner: { js: "#!/usr/bin/env node" },
  // The workspace packages go into the commands' own files, without comments and whitespace
  // (SHIPPED_COMMAND): a command's start then reads and compiles a few files, not one per package
  // with its doc comments. Names stay, for readable stacks; the source maps have the sources.
  noExternal: [/^@irqlab\//],
  ...SHIPPED_COMMAND,
  // Taken from their TypeScript sources (the "@irqlab/source" export condition), as the benches
  // take them: the commands build without the packages' own builds and declarations.
  esbuildOptions(options) {
    options.conditions = ["@irqlab/source"];
  },
});
