/**
 * The RISC-V scale bench's deliveries timed in a process of their own, for
 * `npm run bench:compare` (tests `scale` and `scale-hot`):
 * `node riscv-scale-span.mjs cold|hot|N RUNS WARMUPS` builds the rig
 * (riscv-scale-rig.ts), makes WARMUPS spans of PER_CALL deliveries (to every
 * vCPU in turn, with `hot` to the first HOT_VCPUS, with a number N to the
 * first N), then RUNS timed ones,
 * and prints one JSON line: each timed span's wall ns (`perSpan` deliveries
 * each), and a row of what the model did (virtual ns per delivery,
 * interrupts the guests claimed) that must be the same for two versions of
 * the model that model the same thing.
 */
import { PER_CALL, buildScaleRig, scaleDeliveries } from "./riscv-scale-rig.js";

const [mode, runs, warmUps] = process.argv.slice(2);
if (mode !== "cold" && mode !== "hot" && !/^[1-9]\d*$/.test(mode ?? "")) throw new Error("usage: riscv-scale-span cold|hot|N RUNS WARMUPS");
const s = buildScaleRig();
const { deliver, deliverHot, deliverAmong } = scaleDeliveries(s);
const one = mode === "hot" ? deliverHot : mode === "cold" ? deliver : deliverAmong(Number(mode));
const span = (): number => {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < PER_CALL; i++) one();
  return Number(process.hrtime.bigint() - t0);
};
for (let i = 0; i < Number(warmUps ?? 0); i++) span();
const v0 = s.queue.now;
const c0 = s.count.n;
const spans: number[] = [];
for (let i = 0; i < Number(runs ?? 1); i++) spans.push(span());
const delivered = spans.length * PER_CALL;
const row = `${mode}: ${((s.queue.now - v0) / delivered).toFixed(1)} virtual ns per delivery, ${s.count.n - c0} claims of ${delivered} MSIs`;
process.stdout.write(`${JSON.stringify({ spans, perSpan: PER_CALL, row, execArgv: process.execArgv })}\n`);
