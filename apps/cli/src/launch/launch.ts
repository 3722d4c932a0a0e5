/**
 * What each bin runs: one of the commands' bundles beside it (dist/*.cjs),
 * loaded with V8's code cache (code-cache.ts), then its entry. The cache is
 * written at exit, with the bytecode of whatever the run used, when the
 * bundle's `codeCacheScope()` names a scope the cache did not hold.
 */

import { fileURLToPath } from "node:url";
import { codeCacheDir, loadBundle } from "./code-cache.js";

/** What a bundle a bin launches exports besides its entry. */
export interface LaunchedBundle {
  /** How far the command got by the time the process exits (see LoadedBundle.saveCache). */
  codeCacheScope(): string;
}

/** Loads `dist/<bundle>.cjs` and returns its exports; its code cache is saved at exit. */
export function launch(bundle: string): unknown {
  const loaded = loadBundle(fileURLToPath(new URL(`./${bundle}.cjs`, import.meta.url)), codeCacheDir());
  process.once("exit", () => {
    loaded.saveCache((loaded.exports as unknown as LaunchedBundle).codeCacheScope());
  });
  return loaded.exports;
}
