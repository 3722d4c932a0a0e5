/** esbuild options for bundling from the TypeScript sources (see source-bundle.mjs). */
export declare const SOURCE_BUNDLE: Readonly<{
  bundle: true;
  format: "esm";
  platform: "node";
  target: "node20";
  conditions: string[];
  logLevel: "error";
}>;
/** How the commands of apps/cli are shipped: esbuild's minifyWhitespace and minifySyntax (see source-bundle.mjs). */
export declare const SHIPPED_COMMAND: Readonly<{
  minifyWhitespace: true;
  minifySyntax: true;
}>;
/** How the bins of apps/cli are shipped: CommonJS, import.meta.url the script's file URL (see source-bundle.mjs). */
export declare const SHIPPED_BIN: Readonly<{
  format: "cjs";
  define: Readonly<Record<string, string>>;
  banner: Readonly<{ js: string }>;
}>;
/** Bundles `entry` (a path from the repository root) into <repository>/.bench-raw/`name` for a bench to run as a process, with more esbuild `options`; returns its path. */
export declare function bundleForProcess(entry: string, name: string, options?: Readonly<Record<string, unknown>>): string;
