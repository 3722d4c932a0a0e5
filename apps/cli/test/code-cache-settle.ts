import { statSync } from "node:fs";
import { CACHE_AFTER_CHANGE_MS } from "../src/launch/code-cache.js";

/**
 * Resolves once every bundle in `files` last changed CACHE_AFTER_CHANGE_MS
 * (and a margin) ago: a run of a bundle that changed more recently does not
 * write its code cache (src/launch/code-cache.ts), and a build may have just
 * written it.
 */
export async function untilCacheable(files: readonly string[]): Promise<void> {
  const changed = Math.max(...files.map((f) => statSync(f).ctimeMs));
  const wait = changed + CACHE_AFTER_CHANGE_MS + 100 - Date.now();
  if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
}
