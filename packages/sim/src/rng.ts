/**
 * Seeded pseudo-random numbers: xoshiro128** (Blackman and Vigna, 2018), a
 * 32-bit generator with 128 bits of state and period 2^128 − 1 that needs only
 * 32-bit integer arithmetic (Math.imul), so it never touches bigint.
 *
 * Streams are independent by construction: each named stream is seeded from a
 * hash of (root seed, stream name) expanded with SplitMix32, so drawing from
 * the "scheduler" stream never shifts the numbers the "workload" stream gives.
 * That is what lets a scenario add a consumer of randomness without changing
 * every other part of its trace.
 */

import { ConfigError } from "./errors.js";

/** 32-bit FNV-1a over the UTF-16 code units of `s`, then a murmur3 finaliser. */
function hashString(s: string, h = 0x811c9dc5): number {
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** One SplitMix32 step: returns [next state, output]. Used only for seeding. */
function splitmix32(state: number): [number, number] {
  const next = (state + 0x9e3779b9) | 0;
  let z = next;
  z = Math.imul(z ^ (z >>> 16), 0x21f0aaad);
  z = Math.imul(z ^ (z >>> 15), 0x735a2d97);
  z ^= z >>> 15;
  return [next, z >>> 0];
}

/** A seed: a non-negative safe integer or a string. */
export type Seed = number | string;

function seedWord(seed: Seed): number {
  if (typeof seed === "string") return hashString(seed);
  if (!Number.isSafeInteger(seed) || seed < 0) {
    throw new ConfigError(`seed must be a non-negative safe integer or a string, got ${String(seed)}`);
  }
  // Fold both 32-bit halves so seeds above 2^32 still differ.
  return hashString(String(Math.floor(seed / 0x1_0000_0000)), seed >>> 0);
}

/** A xoshiro128** generator. */
export class Rng {
  #s0: number;
  #s1: number;
  #s2: number;
  #s3: number;

  /** Seeds a generator from 32 bits by SplitMix32 expansion. */
  constructor(seed32: number) {
    let st = seed32 | 0;
    let out: number;
    [st, out] = splitmix32(st);
    this.#s0 = out;
    [st, out] = splitmix32(st);
    this.#s1 = out;
    [st, out] = splitmix32(st);
    this.#s2 = out;
    [, out] = splitmix32(st);
    this.#s3 = out;
    if ((this.#s0 | this.#s1 | this.#s2 | this.#s3) === 0) this.#s0 = 1; // the all-zero state is a fixed point
  }

  /** The next 32-bit unsigned integer. */
  nextU32(): number {
    const s1 = this.#s1;
    const result = Math.imul(rotl(Math.imul(s1, 5), 7), 9);
    const t = s1 << 9;
    this.#s2 ^= this.#s0;
    this.#s3 ^= s1;
    this.#s1 ^= this.#s2;
    this.#s0 ^= this.#s3;
    this.#s2 ^= t;
    this.#s3 = rotl(this.#s3, 11);
    return result >>> 0;
  }

  /** A float in [0, 1) with 53 random bits. */
  nextFloat(): number {
    const hi = this.nextU32() >>> 5; // 27 bits
    const lo = this.nextU32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /**
   * An integer uniformly drawn from [min, max] (both inclusive), without
   * modulo bias (Lemire's rejection on 32 bits; two words for wider ranges).
   */
  int(min: number, max: number): number {
    if (!Number.isSafeInteger(min) || !Number.isSafeInteger(max) || max < min) {
      throw new ConfigError(`Rng.int needs integers min <= max, got [${min}, ${max}]`);
    }
    const span = max - min + 1;
    if (span <= 0x1_0000_0000) {
      if (span === 0x1_0000_0000) return min + this.nextU32();
      const limit = 0x1_0000_0000 - (0x1_0000_0000 % span);
      let x: number;
      do x = this.nextU32();
      while (x >= limit);
      return min + (x % span);
    }
    // Wide ranges: rejection over 53-bit draws.
    const limit = 9007199254740992 - (9007199254740992 % span);
    let x: number;
    do x = Math.floor(this.nextFloat() * 9007199254740992);
    while (x >= limit);
    return min + (x % span);
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.nextFloat() < p;
  }

  /** An exponentially distributed value with the given mean (e.g. inter-arrival times). */
  exponential(mean: number): number {
    return -Math.log(1 - this.nextFloat()) * mean;
  }

  /** A uniformly chosen element of a non-empty array. */
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new ConfigError("Rng.pick needs a non-empty array");
    return items[this.int(0, items.length - 1)]!;
  }

  /** Shuffles `items` in place (Fisher–Yates) and returns it. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(0, i);
      const t = items[i]!;
      items[i] = items[j]!;
      items[j] = t;
    }
    return items;
  }

  /** The generator state, for snapshots. */
  state(): [number, number, number, number] {
    return [this.#s0 >>> 0, this.#s1 >>> 0, this.#s2 >>> 0, this.#s3 >>> 0];
  }

  /** A generator resuming from a state returned by {@link state}. */
  static fromState(s: readonly [number, number, number, number]): Rng {
    const r = new Rng(0);
    r.#s0 = s[0] | 0;
    r.#s1 = s[1] | 0;
    r.#s2 = s[2] | 0;
    r.#s3 = s[3] | 0;
    return r;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/**
 * The root of a run's randomness: hands out one independent {@link Rng} per
 * name. Asking twice for the same name returns the same generator.
 */
export class RngStreams {
  readonly #root: number;
  readonly #streams = new Map<string, Rng>();

  /** @param seed the run's seed (`--seed`); the same seed gives the same streams. */
  constructor(readonly seed: Seed) {
    this.#root = seedWord(seed);
  }

  /** The stream called `name`, created on first use. */
  stream(name: string): Rng {
    let rng = this.#streams.get(name);
    if (!rng) {
      rng = new Rng(hashString(name, this.#root));
      this.#streams.set(name, rng);
    }
    return rng;
  }
}
