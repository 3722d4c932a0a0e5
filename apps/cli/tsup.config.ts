import { defineConfig } from "tsup";

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
});
