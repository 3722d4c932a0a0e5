/** The span runner's entry point, from the repository root. */
export declare const MICRO_BENCH_SPAN: string;
/** micro-bench.c's iterations per test: 65536. */
export declare const SOURCE_TIMES: number;
/** Iterations per run of a micro-bench test: 65536, or 4096 for ipi, ipi_hw and lpi. */
export declare function microBenchTimes(test: string): number;
/** The node options of a steady measurement (V8's optimising compiler on the measured thread). */
export declare const STEADY_NODE_FLAGS: readonly string[];
/** The CPU span processes are pinned to unless told otherwise: the last one. */
export declare const DEFAULT_CPU: number;
/** How a span process runs: with the test's prep measured apart, pinned to a CPU, with node flags. */
export interface SpanProcessOptions {
  readonly prep?: boolean;
  readonly cpu?: number;
  readonly nodeFlags?: readonly string[];
}
/**
 * One pinned process of the span runner: wall ns per operation of each timed run, fastest first, and the guest's row;
 * with `prep`, also the wall ns per operation with the test's prep left out (median spans of `times` and of 1 iteration).
 */
export declare function runSpanProcess(
  bundle: string,
  test: string,
  times: number,
  loop: boolean,
  runs: number,
  warmUps: number,
  options?: SpanProcessOptions,
): { perOp: number[]; perOpExclPrep: number | undefined; row: string; execArgv: string[] | null };
/** The node options that move the helper threads of a process pinned to `cpu` to the other CPUs: the preload, or none where they cannot move (one CPU, no taskset). */
export declare function helperThreadsPreload(cpu: number): string[];
/** Runs `node <nodeFlags> <args>` pinned to `cpu`, its helper threads (V8's compiler and collector) on the other CPUs, and returns its stdout parsed as JSON; `what` names it in an error. */
export declare function runPinnedJson(args: readonly string[], options?: { readonly cpu?: number; readonly nodeFlags?: readonly string[] }, what?: string): unknown;
/** The median of `xs` (the upper one of an even count). */
export declare function median(xs: readonly number[]): number;
