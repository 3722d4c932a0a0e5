/** The line size of the caches cache-footprint.mjs simulates. */
export declare const LINE_BYTES: number;
/** A bad command line (exit status 2). */
export declare class UsageError extends Error {}
/** The options of a command line. */
export interface FootprintOptions {
  readonly llMiB: number;
  readonly among: number;
  /** A micro-bench test to count one operation of, instead of a scale-bench delivery. */
  readonly op: string | undefined;
  /** With `op`: the test's repeats and polls as loops of yields. */
  readonly loop: boolean;
  /** With `op`: iterations of a measured run. */
  readonly times: number;
  readonly rounds: number;
  readonly warmups: number;
  readonly byFunction: number;
  /** What --by-function's functions are ordered by. */
  readonly sort: "lines" | "d1" | "instructions";
  readonly against: string | undefined;
  /** Options for node in every measured process. */
  readonly nodeOptions: readonly string[];
  readonly json: boolean;
}
/** Parses a command line; throws UsageError for a bad one. */
export declare function parseArgs(argv: readonly string[]): FootprintOptions;
/** The event totals of a cachegrind or callgrind output file. */
export declare function parseTotals(text: string): Map<string, number>;
/** Instructions, data misses (D1) and lines from memory (LL) of the costs `get` returns by event name. */
export declare function missCounts(get: (event: string) => number | undefined): { ir: number; i1: number; d1: number; ll: number };
/** A callgrind file's self costs by instruction address. */
export interface ParsedCallgrind {
  readonly pid: number;
  readonly events: readonly string[];
  readonly byAddress: Map<number, { fn: string; costs: number[] }>;
}
/** Parses a callgrind output file written with --dump-instr=yes. */
export declare function parseCallgrind(text: string): ParsedCallgrind;
/** A perf map's entry. */
export interface PerfMapEntry {
  readonly start: number;
  readonly end: number;
  readonly name: string;
  readonly order: number;
}
/** A perf map's entries, sorted by start. */
export declare function readPerfMap(text: string): PerfMapEntry[];
/** The name of the code at `address`, or undefined. */
export declare function lookupPerfMap(entries: readonly PerfMapEntry[], address: number): string | undefined;
/** Where a bundle's `file:line:column` (1-based) comes from in the sources, if known. */
export type SourcePlace = (file: string, line: number, column: number) => string | undefined;
/** A perf-map name without V8's tier marks, placed by `place` when it knows the place. */
export declare function functionName(perfName: string, place?: SourcePlace): string;
/** Per function, the summed costs of a parsed callgrind file. */
export declare function costsByFunction(parsed: ParsedCallgrind, perfEntries: readonly PerfMapEntry[], place?: SourcePlace): Map<string, number[]>;
