/** The machine probe's figures (see machine-probe.mjs). */
export interface MachineProbe {
  /** Wall ns per step of a xorshift32 loop, median of five rounds. */
  readonly computeNs: number;
  /** (largest − smallest) / median of those rounds. */
  readonly computeSpread: number;
  /** Wall ns per load of a pointer chase through `memoryMiB` MiB, median of five rounds. */
  readonly memoryNs: number;
  /** (largest − smallest) / median of those rounds. */
  readonly memorySpread: number;
  /** The size of the chase's buffer. */
  readonly memoryMiB: number;
  /** The same chase through each of {@link CACHE_CURVE_MIB} below `memoryMiB`: ns per load and the spread, as above. */
  readonly cacheCurve: readonly { readonly mib: number; readonly ns: number; readonly spread: number }[];
}
/** Buffer sizes of the cache curve, in MiB. */
export declare const CACHE_CURVE_MIB: readonly number[];
/** Probes the machine with a pointer chase through `memoryMiB` MiB (default 128), and the cache curve below it. */
export declare function probeMachine(memoryMiB?: number): MachineProbe;
/** A random cycle through every entry of an Int32Array of `entries`: `next[i]` follows `i`. */
export declare function randomCycle(entries: number): Int32Array;
