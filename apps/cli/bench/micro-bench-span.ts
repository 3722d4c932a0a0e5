/**
 * The process micro-bench.bench.ts measures one form of one test in:
 * `node micro-bench-span.mjs TEST TIMES fast|loop RUNS WARMUPS` runs the test
 * WARMUPS times, then RUNS times timed, and prints one JSON line: the wall
 * ns of each timed run's span (runMicroBench) and the guest's table row. A
 * process of its own per form, so that neither form's figure is taken in a
 * JIT state the other form's code (or another test's) left behind.
 */
import { runMicroBench } from "./micro-bench-run.js";

const [test, times, form, runs, warmUps] = process.argv.slice(2);
if (test === undefined || (form !== "fast" && form !== "loop")) {
  throw new Error("usage: micro-bench-span TEST TIMES fast|loop RUNS WARMUPS");
}
const n = Number(times);
const loop = form === "loop";
for (let i = 0; i < Number(warmUps ?? 0); i++) runMicroBench([test], n, true, loop);
const spans: number[] = [];
let row = "";
for (let i = 0; i < Number(runs ?? 1); i++) {
  const r = runMicroBench([test], n, true, loop);
  spans.push(r.spanNs);
  row = r.out.split("\n").find((l) => l.startsWith(`${test} `))?.trimEnd() ?? "";
}
process.stdout.write(`${JSON.stringify({ spans, row })}\n`);
