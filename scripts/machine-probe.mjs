// How fast the machine is at the moment, apart from irqlab: `npm run bench` runs this before and after
// its benches and records both (bench-results.json, package "(machine)"), so that a reader can tell
// figures taken in one of a shared machine's slow phases from a change in the model.
//
// Its figures, each the median of several timed rounds:
// - compute: ns per step of a loop of xorshift32 steps, all in registers — what a busy sibling
//   thread or a throttled core changes (micro-bench's tests are bound by this);
// - memory: ns per step of a pointer chase through a random cycle over a buffer far larger than the
//   caches — a load from memory and its TLB miss, what other tenants' traffic changes;
// - the cache curve: the same chase through 4, 8, 16 and 32 MiB (those below the memory buffer's
//   size). Where its figures jump to the memory one is how much of the last-level cache this
//   process has now: on a shared machine that moves with the neighbours' traffic, and the RISC-V
//   scale bench's cold deliveries run near its hot ones only while the vCPUs' state fits in it.
//
// Run as a script (`node scripts/machine-probe.mjs [memory MiB]`) it prints the figures as JSON.
import { fileURLToPath } from "node:url";
import { median } from "./micro-bench-process.mjs";

/** Wall ns per step of `steps` steps of `run`, median of `rounds` timed rounds after one untimed. */
function nsPerStep(run, steps, rounds) {
  run(steps);
  const ns = [];
  for (let i = 0; i < rounds; i++) {
    const t0 = process.hrtime.bigint();
    run(steps);
    ns.push(Number(process.hrtime.bigint() - t0) / steps);
  }
  const mid = median(ns);
  return { ns: mid, spread: (Math.max(...ns) - Math.min(...ns)) / mid };
}

// The loops' results go here (a module's variable, which the compiler cannot prove unread), so that no
// step can be left out as unused.
let _sink = 0;

function xorshiftSteps(n) {
  let x = 0x9e3779b9 | 0;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
  }
  _sink ^= x;
}

/**
 * A cycle through every entry of an Int32Array of `entries` in random order
 * (Sattolo's algorithm, from a fixed seed: the same cycle on every run):
 * `next[i]` is the entry after `i`. One cycle, so that a chase from any
 * entry visits them all before it comes back, never a short loop that stays
 * in a cache.
 */
export function randomCycle(entries) {
  const next = new Int32Array(entries);
  for (let i = 0; i < entries; i++) next[i] = i;
  let x = 0x2545f491 | 0;
  for (let i = entries - 1; i > 0; i--) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    const j = (x >>> 0) % i;
    const t = next[i];
    next[i] = next[j];
    next[j] = t;
  }
  return next;
}

/** Buffer sizes of the cache curve, in MiB: around the last-level cache share of a machine this runs on. */
export const CACHE_CURVE_MIB = Object.freeze([4, 8, 16, 32]);

/** Wall ns per load of a pointer chase through a random cycle over `mib` MiB, with the rounds' spread. */
function chaseNs(mib) {
  const next = randomCycle((mib * 1024 * 1024) / 4);
  let at = 0;
  const chase = (n) => {
    let p = at;
    for (let i = 0; i < n; i++) p = next[p];
    at = p;
  };
  const r = nsPerStep(chase, 1_000_000, 5);
  _sink ^= at;
  return r;
}

/**
 * Probes the machine: `memoryMiB` is the size of the pointer chase's buffer
 * (default 128 MiB, beyond the last-level cache of any machine this runs on);
 * the cache curve chases through each of {@link CACHE_CURVE_MIB} below it.
 * @returns {{ computeNs: number, computeSpread: number, memoryNs: number, memorySpread: number, memoryMiB: number, cacheCurve: { mib: number, ns: number, spread: number }[] }}
 */
export function probeMachine(memoryMiB = 128) {
  const compute = nsPerStep(xorshiftSteps, 20_000_000, 5);
  const memory = chaseNs(memoryMiB);
  const cacheCurve = CACHE_CURVE_MIB.filter((mib) => mib < memoryMiB).map((mib) => ({ mib, ...chaseNs(mib) }));
  return { computeNs: compute.ns, computeSpread: compute.spread, memoryNs: memory.ns, memorySpread: memory.spread, memoryMiB, cacheCurve };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const arg = process.argv[2];
  const mib = arg === undefined ? undefined : Number(arg);
  if (mib !== undefined && !(Number.isInteger(mib) && mib >= 1)) {
    process.stderr.write(`machine-probe: the memory size must be a whole number of MiB, not '${arg}'\n`);
    process.exit(2);
  }
  process.stdout.write(`${JSON.stringify(probeMachine(mib))}\n`);
}
