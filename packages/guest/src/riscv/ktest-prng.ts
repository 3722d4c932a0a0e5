/**
 * kvm-unit-tests' pseudo-random generator (lib/rand.c), so that a workload
 * picks the same "random" CPU the kvm-unit-tests test picks with the same
 * seed: the state is a SHA-256 hash (FIPS 180-4) of the seed's two 32-bit
 * words; prng32() hands out the hash's eight words in order and then hashes
 * the hash again.
 *
 * Only what lib/rand.c uses of SHA-256: one 512-bit block, input of at most
 * 13 words (big-endian words in, words out).
 */

const INITIAL_HASH = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];

// The first 32 bits of the fractional parts of the cube roots of the first 64 primes (FIPS 180-4 §4.2.2).
const K = [
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3,
  0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
  0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
  0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
];

const rot = (x: number, n: number): number => ((x >>> n) | (x << (32 - n))) >>> 0;

/** SHA-256 of `input` (at most 13 32-bit words), as eight words. */
export function sha256Words(input: readonly number[]): number[] {
  if (input.length > 13) throw new RangeError(`sha256Words: ${input.length} words; one block holds at most 13`);
  const w = new Array<number>(64).fill(0);
  input.forEach((v, i) => (w[i] = v >>> 0));
  w[input.length] = 0x8000_0000;
  w[15] = input.length * 32;
  for (let i = 16; i < 64; i++) {
    const s0 = rot(w[i - 15]!, 7) ^ rot(w[i - 15]!, 18) ^ (w[i - 15]! >>> 3);
    const s1 = rot(w[i - 2]!, 17) ^ rot(w[i - 2]!, 19) ^ (w[i - 2]! >>> 10);
    w[i] = (w[i - 16]! + s0 + w[i - 7]! + s1) >>> 0;
  }
  let [a, b, c, d, e, f, g, h] = INITIAL_HASH as [number, number, number, number, number, number, number, number];
  for (let i = 0; i < 64; i++) {
    const t1 = (h + (rot(e, 6) ^ rot(e, 11) ^ rot(e, 25)) + ((e & f) ^ (~e & g)) + K[i]! + w[i]!) >>> 0;
    const t2 = ((rot(a, 2) ^ rot(a, 13) ^ rot(a, 22)) + ((a & b) ^ (a & c) ^ (b & c))) >>> 0;
    h = g;
    g = f;
    f = e;
    e = (d + t1) >>> 0;
    d = c;
    c = b;
    b = a;
    a = (t1 + t2) >>> 0;
  }
  return [a, b, c, d, e, f, g, h].map((v, i) => (v + INITIAL_HASH[i]!) >>> 0);
}

/** prng_state: the hash and the next word to hand out. */
export class KtestPrng {
  #hash: number[];
  #next = 0;

  /** prng_init(seed): SHA-256 of { seed >> 32, seed & 0xffffffff }. */
  constructor(seed: number) {
    const hi = Math.floor(seed / 2 ** 32) >>> 0;
    this.#hash = sha256Words([hi, seed >>> 0]);
  }

  /** prng32(). */
  next32(): number {
    if (this.#next >= 8) {
      this.#hash = sha256Words(this.#hash);
      this.#next = 0;
    }
    return this.#hash[this.#next++]!;
  }
}
