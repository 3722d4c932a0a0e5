/**
 * What one operation of a hot path allocates on the JavaScript heap, for a
 * bench's `meta.bytesPerOp`: the growth of every heap space over `n` calls
 * of the operation, over `n`. Pretenured objects land in old space and are
 * counted with the rest. Three things besides the operation move those
 * sizes, and each is kept out:
 *
 * - A collection during the calls empties a space (a scavenge the young
 *   generation, a mark-compact most of the old). V8's GC profiler says
 *   whether one ran; a window in which one did is thrown away and the next
 *   one made with half as many calls.
 * - Reading the sizes allocates: getHeapSpaceStatistics builds its records
 *   after it has read them, so a window counts the records of its first
 *   reading (about 2.3 KB on Node 20, 11 bytes a call over 200 calls). The
 *   growth of a window without calls is that overhead, and is taken off.
 * - A TurboFan compile finishing on the main thread puts its code and
 *   metadata in code and old space: compiles of the code a bench ran before
 *   the operation (its setup) land in whichever window is open then, once,
 *   as about 11 bytes a call over 20,000 calls. The figure is the median of
 *   three windows, so that growth met in one of them is not counted.
 */
import { GCProfiler, getHeapSpaceStatistics } from "node:v8";

/** Windows whose median is the figure. */
const WINDOWS = 3;
/** Windows made at most, those a collection spoiled included. */
const MAX_WINDOWS = 16;

/** Bytes used in all heap spaces together. */
function heapUsed(): number {
  const spaces = getHeapSpaceStatistics();
  let used = 0;
  // Indexed: an iterator allocates until this function is optimised, and the overhead taken off would change.
  // eslint-disable-next-line @typescript-eslint/prefer-for-of -- see above
  for (let i = 0; i < spaces.length; i++) used += spaces[i]!.space_used_size;
  return used;
}

/** Heap growth over `calls` calls of `op`, or NaN if a collection ran meanwhile. */
function growthOver(op: () => void, calls: number): number {
  const profiler = new GCProfiler();
  profiler.start();
  const before = heapUsed();
  for (let i = 0; i < calls; i++) op();
  const after = heapUsed();
  const collections = profiler.stop().statistics.length;
  return collections === 0 ? after - before : Number.NaN;
}

/** The middle value of `xs` (sorted in place); the mean of the two middle ones for an even count. */
function median(xs: number[]): number {
  xs.sort((a, b) => a - b);
  const m = xs.length >> 1;
  return xs.length % 2 === 1 ? xs[m]! : (xs[m - 1]! + xs[m]!) / 2;
}

/**
 * The growth a window without calls shows: what reading the sizes allocates.
 * The median of three, after one not counted: the meter's first window reads
 * less (about 140 bytes) than every one after it.
 */
function readingOverhead(): number {
  growthOver(() => undefined, 0);
  const tares: number[] = [];
  for (let i = 0; i < WINDOWS; i++) {
    const g = growthOver(() => undefined, 0);
    if (!Number.isNaN(g)) tares.push(g);
  }
  return tares.length === 0 ? 0 : median(tares);
}

/**
 * Bytes allocated per call of `op` (after `n` warm-up calls), to one decimal:
 * the median of three windows of up to `n` calls in which no collection ran,
 * less what reading the heap allocates; NaN if collections spoiled so many
 * windows that fewer than three were left.
 */
export function bytesAllocatedPerOp(op: () => void, n: number): number {
  for (let i = 0; i < n; i++) op();
  const overhead = readingOverhead();
  const perCall: number[] = [];
  for (let calls = n, made = 0; made < MAX_WINDOWS && perCall.length < WINDOWS && calls >= 1; made++) {
    const g = growthOver(op, calls);
    if (Number.isNaN(g)) calls >>= 1;
    else perCall.push((g - overhead) / calls);
  }
  if (perCall.length < WINDOWS) return Number.NaN;
  // + 0: a median just below 0 rounds to -0.
  return Math.round(median(perCall) * 10) / 10 + 0;
}
