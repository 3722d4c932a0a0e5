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
  /** A mode of the run loop's handoff bench (vcpu-handoff-run.ts) to count one store of vCPU 0 in, instead. */
  readonly handoff: "alone" | "beside-spin" | "lockstep" | undefined;
  /** With `op`: the test's repeats and polls as loops of yields. */
  readonly loop: boolean;
  /** With `op`: iterations of a measured run; with `handoff`, sequences of 100 stores a run. */
  readonly times: number;
  readonly rounds: number;
  readonly warmups: number;
  readonly byFunction: number;
  /** Source lines to list, by the source positions of V8's jitdump (0: none). */
  readonly byLine: number;
  /** What --by-function's functions and --by-line's lines are ordered by. */
  readonly sort: "lines" | "d1" | "i1" | "instructions";
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
/** A symbol as valgrind names it, glibc's mempcpy entry of the copy loop under memcpy's name, without callgrind's recursion level. */
export declare function symbolName(fn: string): string;
/** A source position of JIT code: where the machine code at `address` on comes from (1-based line and column). */
export interface JitPosition {
  readonly address: number;
  readonly line: number;
  readonly column: number;
  readonly file: string;
}
/** A code object a jitdump file describes, with its source positions when V8 gave it some. */
export interface JitCode extends PerfMapEntry {
  readonly positions: readonly JitPosition[] | undefined;
}
/** The code a jitdump file (V8's --perf-prof) describes, sorted by start; throws for a buffer that is not one. */
export declare function readJitdump(buf: Buffer): JitCode[];
/** The entry of sorted code entries that covers `address` (of several, the one written last), or undefined. */
export declare function lookupCode<T extends PerfMapEntry>(entries: readonly T[], address: number): T | undefined;
/** The source position `address` lies in within `code`, or undefined. */
export declare function positionAt(code: JitCode, address: number): JitPosition | undefined;
/** Per source line, the summed costs of a parsed callgrind file, JIT code placed by jitdump's positions. */
export declare function costsBySourceLine(parsed: ParsedCallgrind, code: readonly JitCode[], place?: SourcePlace): Map<string, number[]>;
