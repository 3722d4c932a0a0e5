// The tsup build shared by the library packages (packages/{sim,aia,gic,kvm}):
// each package's tsup.config.ts passes it to defineConfig. Paths are relative
// to the package directory, where tsup runs.
import type { Options } from "tsup";

/** One ESM bundle of src/index.ts with declarations and a source map, for Node 20. */
export const libraryConfig: Options = {
  entry: ["src/index.ts"],
  format: ["esm"],
  // tsup 8.5 injects baseUrl into its d.ts build, which TypeScript 6 deprecates (egoist/tsup#1389).
  dts: { compilerOptions: { ignoreDeprecations: "6.0" } },
  sourcemap: true,
  clean: true,
  target: "node20",
};
