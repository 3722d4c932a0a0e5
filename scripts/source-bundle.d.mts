/** esbuild options for bundling from the TypeScript sources (see source-bundle.mjs). */
export declare const SOURCE_BUNDLE: Readonly<{
  bundle: true;
  format: "esm";
  platform: "node";
  target: "node20";
  conditions: string[];
  logLevel: "error";
}>;
