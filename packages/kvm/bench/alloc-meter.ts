/**
 * What one operation of a hot path allocates on the JavaScript heap, for a
 * bench's `meta.bytesPerOp`: the growth of every heap space over `n` calls
 * of the operation, over `n`. A collection during the calls empties a space
 * (a scavenge the young generation, a mark-compact most of the old), so a
 * run in which any space shrank is thrown away and retried with half as many
 * calls. Pretenured objects land in old space and are counted with the rest.
 */
import { getHeapSpaceStatistics } from "node:v8";

function spaceSizes(): number[] {
  return getHeapSpaceStatistics().map((s) => s.space_used_size);
}

/**
 * Bytes allocated per call of `op` (after `n` warm-up calls), to one decimal;
 * NaN if every attempt saw a collection.
 */
export function bytesAllocatedPerOp(op: () => void, n: number): number {
  for (let i = 0; i < n; i++) op();
  for (let calls = n, attempt = 0; attempt < 8 && calls >= 16; attempt++, calls >>= 1) {
    const before = spaceSizes();
    for (let i = 0; i < calls; i++) op();
    const after = spaceSizes();
    let grown = 0;
    let shrank = false;
    for (let s = 0; s < before.length; s++) {
      const d = after[s]! - before[s]!;
      if (d < 0) shrank = true;
      grown += d;
    }
    if (!shrank) return Math.round((grown / calls) * 10) / 10;
  }
  return Number.NaN;
}
