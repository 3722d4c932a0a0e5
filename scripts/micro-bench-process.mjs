// How micro-bench's wall time is measured in a process of its own, shared by the micro-bench bench
// (apps/cli/bench/micro-bench.bench.ts) and `npm run bench:compare` (scripts/bench-compare.mjs): the
// span runner (apps/cli/bench/micro-bench-span.ts, bundled) run pinned to one CPU where taskset
// exists. On a shared two-CPU machine, processes whose threads spread over both CPUs ran whole
// series of spans about half as slow again as pinned ones. V8's helper threads (TurboFan's
// concurrent compiles, the collector's concurrent marking) are moved to the other CPUs, where there
// are any (helper-threads.mjs): on the measured thread's CPU, their compiles of each new machine's
// boot code preempted about one run in three.
import { spawnSync } from "node:child_process";
import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";

/** The span runner's entry point, from the repository root. */
export const MICRO_BENCH_SPAN = "apps/cli/bench/micro-bench-span.ts";

/** Whether taskset exists here to pin a process to one CPU. */
const TASKSET = spawnSync("taskset", ["--version"], { stdio: "ignore" }).status === 0;

/**
 * The node options of a steady measurement: V8's optimising compiler on the measured thread, at
 * fixed points, rather than on a background thread, whose compiles land beside some spans and not
 * others (bench-compare's --steady, micro-bench.bench.ts's `…Steady` figures).
 */
export const STEADY_NODE_FLAGS = Object.freeze(["--no-concurrent-recompilation"]);

/** The CPU span processes are pinned to unless told otherwise: the last one. */
export const DEFAULT_CPU = availableParallelism() - 1;

/** `taskset -c <cpu>` before a command, or nothing where taskset is missing. */
function pinnedTo(cpu) {
  return TASKSET ? ["taskset", "-c", String(cpu)] : [];
}

/**
 * The preload that moves a pinned process's helper threads off its CPU: by way of the parent
 * directory, which is the repository's root both from scripts/ and from .bench-raw/, where the
 * benches bundle this module.
 */
const HELPER_THREADS = fileURLToPath(new URL("../scripts/helper-threads.mjs", import.meta.url));

/**
 * The CPUs other than `cpu`, as a taskset list ("0,2,3"), for the helper threads of a process pinned
 * to `cpu`; empty on a machine of one CPU or without taskset (the helpers then stay beside it).
 */
function helperCpus(cpu) {
  if (!TASKSET) return "";
  const others = [];
  for (let c = 0; c < availableParallelism(); c++) if (c !== cpu) others.push(c);
  return others.join(",");
}

/**
 * The node options that move the helper threads of a process pinned to `cpu` off it: the preload,
 * or none where they cannot move ({@link helperCpus}).
 */
export function helperThreadsPreload(cpu) {
  return helperCpus(cpu) === "" ? [] : ["--import", HELPER_THREADS];
}

/**
 * Runs `node <nodeFlags> <args>` pinned to `cpu` (where taskset exists), its helper threads on the
 * other CPUs ({@link helperThreadsPreload}), and returns what it printed on stdout, parsed as JSON;
 * `what` names it in the error when it fails.
 */
export function runPinnedJson(args, { cpu = DEFAULT_CPU, nodeFlags = [] } = {}, what = args[0]) {
  const helpers = helperCpus(cpu);
  const preload = helperThreadsPreload(cpu);
  const command = [...pinnedTo(cpu), process.execPath, ...preload, ...nodeFlags, ...args];
  const env = helpers === "" ? process.env : { ...process.env, IRQLAB_HELPER_CPUS: helpers };
  const r = spawnSync(command[0], command.slice(1), { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], env });
  if (r.status !== 0) throw new Error(`${what}: exit ${r.status}\n${r.stderr}`);
  return JSON.parse(r.stdout);
}

/** micro-bench.c's iterations per test (NTIMES): what a steady measurement runs for every test. */
export const SOURCE_TIMES = 65536;

/** Iterations per run: the source's, but 4096 for the tests whose operation takes microseconds. */
export function microBenchTimes(test) {
  return test === "ipi" || test === "ipi_hw" || test === "lpi" ? 4096 : SOURCE_TIMES;
}

/**
 * One process of the span runner `bundle`: `warmUps` runs of `test` (`times` iterations, its repeats
 * and polls as ops, or with `loop` as loops of yields), then `runs` timed ones. Returns each timed
 * run's wall ns per operation, boot excluded, fastest first, and the guest's micro-bench row. With
 * `options.prep`, each timed run is followed by a run of one iteration, and `perOpExclPrep` is the
 * median span less the median span of one iteration, over `times` − 1: the wall time of an
 * operation, with the test's prep (lpi's ITS set-up) left out as the guest's own figure leaves it
 * out. The process is pinned to `options.cpu` (default {@link DEFAULT_CPU}) and given
 * `options.nodeFlags` before the bundle; `execArgv` is the node options it reports it ran with (null
 * from a span runner of a revision that does not report them).
 */
export function runSpanProcess(bundle, test, times, loop, runs, warmUps, options = {}) {
  const { prep = false } = options;
  const args = [bundle, test, String(times), loop ? "loop" : "fast", String(runs), String(warmUps), ...(prep ? ["prep"] : [])];
  const { spans, prepSpans, row, execArgv } = runPinnedJson(args, options, `micro-bench-span ${test} (${bundle})`);
  const perOpExclPrep = prep && times > 1 ? (median(spans) - median(prepSpans)) / (times - 1) : undefined;
  return { perOp: spans.map((ns) => ns / times).sort((a, b) => a - b), perOpExclPrep, row, execArgv: execArgv ?? null };
}

/** The median of `xs` (the upper one of an even count). */
export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1];
}
