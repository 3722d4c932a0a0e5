// How micro-bench's wall time is measured in a process of its own, shared by the micro-bench bench
// (apps/cli/bench/micro-bench.bench.ts) and `npm run bench:compare` (scripts/bench-compare.mjs): the
// span runner (apps/cli/bench/micro-bench-span.ts, bundled) run pinned to one CPU where taskset
// exists. On a shared two-CPU machine, processes whose threads spread over both CPUs ran whole
// series of spans about half as slow again as pinned ones.
import { spawnSync } from "node:child_process";
import { availableParallelism } from "node:os";

/** The span runner's entry point, from the repository root. */
export const MICRO_BENCH_SPAN = "apps/cli/bench/micro-bench-span.ts";

/** `taskset -c <the last CPU>` before a command, or nothing where taskset is missing. */
const PINNED = spawnSync("taskset", ["--version"], { stdio: "ignore" }).status === 0 ? ["taskset", "-c", String(availableParallelism() - 1)] : [];

/** Iterations per run: the source's 65536, but 4096 for the tests whose operation takes microseconds. */
export function microBenchTimes(test) {
  return test === "ipi" || test === "ipi_hw" || test === "lpi" ? 4096 : 65536;
}

/**
 * One process of the span runner `bundle`: `warmUps` runs of `test` (`times` iterations, its repeats
 * and polls as ops, or with `loop` as loops of yields), then `runs` timed ones. Returns each timed
 * run's wall ns per operation, boot excluded, fastest first, and the guest's micro-bench row. With
 * `prep`, each timed run is followed by a run of one iteration, and `perOpExclPrep` is the median
 * span less the median span of one iteration, over `times` − 1: the wall time of an operation, with
 * the test's prep (lpi's ITS set-up) left out as the guest's own figure leaves it out.
 */
export function runSpanProcess(bundle, test, times, loop, runs, warmUps, prep = false) {
  const command = [...PINNED, process.execPath, bundle, test, String(times), loop ? "loop" : "fast", String(runs), String(warmUps), ...(prep ? ["prep"] : [])];
  const r = spawnSync(command[0], command.slice(1), { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  if (r.status !== 0) throw new Error(`micro-bench-span ${test} (${bundle}): exit ${r.status}\n${r.stderr}`);
  const { spans, prepSpans, row } = JSON.parse(r.stdout);
  const perOpExclPrep = prep && times > 1 ? (median(spans) - median(prepSpans)) / (times - 1) : undefined;
  return { perOp: spans.map((ns) => ns / times).sort((a, b) => a - b), perOpExclPrep, row };
}

/** The median of `xs` (the upper one of an even count). */
export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1];
}
