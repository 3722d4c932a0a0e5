/**
 * The process vcpu-handoff.bench.ts measures in: `node
 * vcpu-handoff-span.mjs SEQS ROUNDS WARMUPS` runs WARMUPS rounds, then ROUNDS
 * timed ones, each round two runs of every mode in turn (vcpu-handoff-run.ts):
 * one of SEQS sequences and one of none, whose difference over the stores is
 * the figure per store, so that the modes' figures come from the same
 * stretch of the machine's time. It prints one JSON line: per mode, the wall
 * ns per store of each timed round and the model's work per store (the same
 * in every round).
 */
import { HANDOFF_MODES, perStore, runHandoff, type HandoffSpan } from "./vcpu-handoff-run.js";

const [seqs, rounds, warmUps] = process.argv.slice(2).map(Number);
if (!Number.isInteger(seqs) || seqs! < 1 || !Number.isInteger(rounds) || rounds! < 1 || !Number.isInteger(warmUps) || warmUps! < 0) {
  throw new Error("usage: vcpu-handoff-span SEQS ROUNDS WARMUPS");
}
const out: Record<string, { wallNsPerStore: number[]; work: Omit<HandoffSpan, "wallNs"> }> = {};
for (let r = 0; r < warmUps! + rounds!; r++) {
  for (const mode of HANDOFF_MODES) {
    const { wallNs, ...work } = perStore(runHandoff(mode, seqs!), runHandoff(mode, 0), seqs!);
    if (r < warmUps!) continue;
    const m = (out[mode] ??= { wallNsPerStore: [], work });
    // Counted, not timed: every round must have done the same work.
    if (JSON.stringify(work) !== JSON.stringify(m.work)) throw new Error(`vcpu-handoff ${mode}: round ${r} counted ${JSON.stringify(work)}, the first ${JSON.stringify(m.work)}`);
    m.wallNsPerStore.push(wallNs);
  }
}
process.stdout.write(`${JSON.stringify(out)}\n`);
