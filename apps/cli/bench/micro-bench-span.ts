/**
 * The process micro-bench.bench.ts measures one form of one test in:
 * `node micro-bench-span.mjs TEST TIMES fast|loop RUNS WARMUPS [prep]` runs
 * the test WARMUPS times, then RUNS times timed, and prints one JSON line:
 * the wall ns of each timed run's span (runMicroBench) and the guest's table
 * row. With `prep`, each timed run is followed by one of a single iteration,
 * whose span is the test's prep and one operation (`prepSpans`); `execArgv`
 * is the node options the process ran with. A process
 * of its own per form, so that neither form's figure is taken in a JIT state
 * the other form's code (or another test's) left behind.
 */
import { runMicroBench } from "./micro-bench-run.js";

const [test, times, form, runs, warmUps, prep] = process.argv.slice(2);
if (test === undefined || (form !== "fast" && form !== "loop") || (prep !== undefined && prep !== "prep")) {
  throw new Error("usage: micro-bench-span TEST TIMES fast|loop RUNS WARMUPS [prep]");
}
const n = Number(times);
const loop = form === "loop";
for (let i = 0; i < Number(warmUps ?? 0); i++) runMicroBench([test], n, true, loop);
const spans: number[] = [];
const prepSpans: number[] = [];
let row = "";
for (let i = 0; i < Number(runs ?? 1); i++) {
  const r = runMicroBench([test], n, true, loop);
  spans.push(r.spanNs);
  row = r.out.split("\n").find((l) => l.startsWith(`${test} `))?.trimEnd() ?? "";
  if (prep !== undefined) prepSpans.push(runMicroBench([test], 1, true, loop).spanNs);
}
process.stdout.write(`${JSON.stringify({ spans, prepSpans, row, execArgv: process.execArgv })}\n`);
