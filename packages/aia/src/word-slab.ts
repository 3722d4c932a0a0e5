/**
 * Zeroed word arrays for interrupt files, carved from shared 64 KiB buffers.
 *
 * A host of 1024 harts may make up to 64,512 guest files, most of them when
 * a vCPU first moves to a hart (they are made at first use). A file's words
 * are few (96 bytes for 255 identities), and a typed array of its own above
 * 64 bytes is a buffer outside the JavaScript heap: V8 allocates, zeroes and
 * tracks each one, which made it the largest part of making a file. Files
 * made together get their words side by side in one shared array, and keep
 * the array with their offset in it rather than a view of their own: a view
 * is one more object a delivery would load, from a different part of the
 * heap, before it reaches the words.
 */

/** Words of one shared buffer (64 KiB). */
const SLAB_WORDS = 16384;
/** Requests above this many words get a buffer of their own. */
const MAX_SHARED_WORDS = SLAB_WORDS >>> 4;

let slab = new Uint32Array(0);
let used = 0;

/** Where `n` zeroed words are: `slab[at]` to `slab[at + n - 1]`, in an array of their own when `n` is large. */
export interface SlabWords {
  readonly slab: Uint32Array;
  readonly at: number;
}

/** Reserves `n` zeroed words, in a shared array when `n` is small. */
export function slabWords(n: number): SlabWords {
  if (n > MAX_SHARED_WORDS) return { slab: new Uint32Array(n), at: 0 };
  if (used + n > slab.length) {
    slab = new Uint32Array(SLAB_WORDS);
    used = 0;
  }
  const at = used;
  used += n;
  return { slab, at };
}
