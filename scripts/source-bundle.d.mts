/** esbuild options for bundling from the TypeScript sources (see source-bundle.mjs). */
export declare const SOURCE_BUNDLE: Readonly<{
  bundle: true;
  format: "esm";
  platform: "node";
  target: "node20";
  conditions: string[];
  logLevel: "error";
}>;
/** Bundles `entry` (a path from the repository root) into <repository>/.bench-raw/`name` for a bench to run as a process; returns its path. */
export declare function bundleForProcess(entry: string, name: string): string;
