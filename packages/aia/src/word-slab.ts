/**
 * Zeroed word arrays for interrupt files, carved from shared 64 KiB buffers.
 *
 * A host of 1024 harts may make up to 64,512 guest files, most of them when
 * a vCPU first moves to a hart (they are made at first use). A file's words
 * are few (96 bytes for 255 identities), and a typed array of its own above
 * 64 bytes is a buffer outside the JavaScript heap: V8 allocates, zeroes and
 * tracks each one, which made it the largest part of making a file. Views of
 * a shared buffer cost one small object each, and the words of files made
 * together lie together in memory. A buffer stays alive while any of its
 * views does.
 */

/** Words of one shared buffer (64 KiB). */
const SLAB_WORDS = 16384;
/** Requests above this many words get a buffer of their own. */
const MAX_SHARED_WORDS = SLAB_WORDS >>> 4;

let slab = new Uint32Array(0);
let used = 0;

/** `n` zeroed words, a view of a shared buffer when `n` is small. */
export function slabWords(n: number): Uint32Array {
  if (n > MAX_SHARED_WORDS) return new Uint32Array(n);
  if (used + n > slab.length) {
    slab = new Uint32Array(SLAB_WORDS);
    used = 0;
  }
  const view = slab.subarray(used, used + n);
  used += n;
  return view;
}
