/**
 * The process micro-bench.bench.ts measures a test's heap allocation in:
 * `node micro-bench-heap.mjs TEST TIMES WARMUPS WARMUP_TIMES` runs the test
 * WARMUPS times for WARMUP_TIMES iterations, so that the model's code is
 * optimised as in a long run (the interpreter, and code compiled before the
 * model's feedback settled, box numbers the final code keeps in registers:
 * after one run of 65536 ipi round trips, about 70 bytes each), then once
 * for TIMES iterations under V8's sampling heap profiler (heap-sampling.ts),
 * and prints one JSON line: the bytes that run allocated.
 */
import { sampledBytes } from "./heap-sampling.js";
import { runMicroBench } from "./micro-bench-run.js";

const [test, times, warmUps, warmUpTimes] = process.argv.slice(2);
if (test === undefined || times === undefined) throw new Error("usage: micro-bench-heap TEST TIMES WARMUPS WARMUP_TIMES");
for (let i = 0; i < Number(warmUps ?? 0); i++) runMicroBench([test], Number(warmUpTimes ?? times));
const bytes = sampledBytes(() => {
  runMicroBench([test], Number(times));
});
process.stdout.write(`${JSON.stringify({ bytes })}\n`);
