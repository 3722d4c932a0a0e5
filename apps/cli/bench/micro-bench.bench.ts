/**
 * kvm-unit-tests' micro-bench on the arm64 machine (`-M virt -accel kvm
 * -smp 2`, the `micro-bench` guest image): for each of its operations, the
 * wall-clock time the model takes per operation next to the virtual time the
 * guest measured for it with CNTVCT_EL0 (its table's "avg ns").
 *
 * One bench call boots a machine, runs one test of the table for N
 * iterations and powers off; the name ends in "[xN]", so the reported
 * wallNsPerOp is the call's time over N, boot included: the "boot and power
 * off" task is that part alone (N is the source's 65536 where a call stays
 * short, so boot is a small share). `meta.virtualNsPerOp` is the guest's
 * average for the operation, `meta.guestRow` its table row.
 *
 * `meta.wallNsPerOpExclBoot` leaves boot and power-off out: the wall time
 * from the guest's table header reaching the console to its row for the test
 * starting to, over N. That span is the test's prep (for lpi the ITS set-up,
 * a few dozen commands) and its timed loop, CNTVCT_EL0 read to read: what the
 * guest's own "total ns" covers in virtual time. The image runs the loop of
 * a one-operation test (hyp_call, mmio_read_user, mmio_read_vgic, eoi) as one
 * `op.repeat` — which the run loop may pass in bulk: an in-kernel access
 * that changes nothing, and a load QEMU answers without a side effect
 * (RunOptions.quietLoads: mmio_read_user's UARTPeriphID0, answered inside
 * KVM_RUN and counted as the exits they are) — and the waits of ipi and lpi
 * as `op.pollWhile`; `meta.wallNsPerOpExclBootLoopOfYields` is the same
 * figure with every repeat
 * and poll as its loop of yields (`loopFormImage`), after checking that both
 * forms print the same row, and `meta.fastToLoopRatio` the ratio of the two.
 * Each form of each test is measured in processes of its own
 * (micro-bench-span.ts, bundled from the sources), as a user's run is: in
 * each, the median of nine runs after ten warm-up runs (fewer leave the JIT
 * still compiling the model's hot path). In one process the figures would
 * depend on which other tests and forms ran there before. The process's main
 * thread is pinned to one CPU (taskset, where there is one): on a shared
 * two-CPU machine, processes whose threads spread over both CPUs ran whole
 * series of spans about half as slow again as pinned ones (mmio_read_user
 * 210-230 ns against 125-150, ipi 3.3 against 2.2 us), which made the median
 * of a run a draw between the two. V8's helper threads run on the other CPUs
 * (scripts/helper-threads.mjs): each fresh machine's boot and prep code
 * reaches TurboFan's threshold only after some dozens of machines, and on the
 * measured CPU those compiles (5-50 ms each) preempted about one ipi or lpi
 * run in three up to the 60th run of a process. Even so, about one process in
 * six settles at about 1.5 times the others' time for all its runs, so each
 * form is measured in three processes and the figure is the median of their
 * medians (`meta.processes`); `meta.wallNsPerOpExclBootFastest` is the
 * fastest run of all. For ipi and lpi, `meta.wallNsPerOpExclPrep` leaves
 * their prep out too, as the guest's own figure does: in each process the
 * median span less the median span of the same test run for one iteration
 * (measured after each timed run), over N − 1; lpi's prep, the ITS set-up, is
 * about a millisecond, a few hundred ns of each of its 4096 iterations.
 *
 * `meta.modelWorkPerOp` is what the model does for one operation, counted
 * by the machine rather than timed: the events its queue dispatched, the
 * KVM_RUN calls, the run() calls that went on with a KVM_RUN another vCPU's
 * operation had stopped ("continuations": ipi's CPU 1 re-entering its
 * guest between CPU 0's poll turns) and the exits to the VMM, over the span
 * above, less the same for one iteration, over N − 1. Deterministic, as the
 * virtual time is: a change in it is a change in the work, whatever the
 * machine's load did to the wall figures.
 *
 * Every run above boots a fresh machine, so each of ipi's and lpi's 4096
 * iterations also carries a share of what V8 does per run — collecting the
 * previous machine (a scavenge inside a run made that run and the next up
 * to 1.7 times slower), tiering up the new one's code — which the source's
 * own 65536 iterations (MICRO_BENCH_TESTS) spread sixteen times thinner.
 * `meta.wallNsPerOpExclBootSourceTimes` and
 * `meta.wallNsPerOpExclPrepSourceTimes` are the fast form's figures at
 * those 65536 iterations per run (five runs after two warm-ups in each
 * process, as a run is then sixteen times longer).
 *
 * Even so, V8's optimising compiler works on a background thread, and its
 * compiles of the run loop (20-100 ms each, a few per process) land
 * beside some runs and not others. `meta.wallNsPerOpExclBootSteady` and
 * `meta.wallNsPerOpExclPrepSteady` are the same figures from processes
 * with that concurrent recompilation off (node --no-concurrent-recompilation):
 * the compiles then happen on the measured thread at fixed points, in the
 * warm-up runs, and the figure is the model's steady cost per operation.
 * To compare two versions of the model, use `npm run bench:compare` (with
 * `--steady`, the same processes), which measures both in one run.
 *
 * `meta.bytesPerOp` is what one operation allocates on the JavaScript heap
 * once the model's code is optimised, at the source's 65536 iterations, from
 * V8's sampling heap profiler (micro-bench-heap.ts: a run of 65536 against a
 * run of one, each in a process of its own after three warm-up runs, freed
 * objects counted, the largest of three processes for the first): within a
 * few tenths of a byte, where a boxed number or an iterator result per
 * operation is 16 bytes or more.
 */
import { MICRO_BENCH_TESTS } from "@irqlab/guest";
import { bench, describe } from "vitest";
import { MICRO_BENCH_SPAN, STEADY_NODE_FLAGS, median, microBenchTimes, runPinnedJson, runSpanProcess } from "../../../scripts/micro-bench-process.mjs";
import { bundleForProcess } from "../../../scripts/source-bundle.mjs";
import { guestRow, runMicroBench, workBetween, type ModelWork } from "./micro-bench-run.js";

const spanRunner = bundleForProcess(MICRO_BENCH_SPAN, "micro-bench-span.mjs");
const heapRunner = bundleForProcess("apps/cli/bench/micro-bench-heap.ts", "micro-bench-heap.mjs");

/** Warm-up runs before a heap-sampled run (micro-bench-heap.ts). */
const HEAP_WARMUPS = 3;

/**
 * Heap bytes one operation of `name` allocates, to one decimal: a sampled run
 * of `times` iterations against one of a single iteration, each in a process
 * of its own after the same warm-ups (micro-bench-heap.ts), over times − 1.
 * The run of `times` is the largest of three processes: what TurboFan inlines
 * differs from one process to the next, and with it whether a number passed
 * to a call is boxed, so an allocation per operation may show in only some
 * processes (a time above 2^31 ns passed to a call TurboFan inlines in one
 * process and not in the next is a 16-byte heap number at every call in the
 * second).
 */
function bytesPerOp(name: string, times: number): number {
  const run = (n: number): number => (runPinnedJson([heapRunner, name, String(n), String(HEAP_WARMUPS), String(times)], {}, `micro-bench-heap ${name}`) as { bytes: number }).bytes;
  const many = Math.max(run(times), run(times), run(times));
  return Math.round(((many - run(1)) / (times - 1)) * 10) / 10;
}

/** Processes each form of each test is measured in. */
const PROCESSES = 3;

/**
 * The wall ns per operation, boot excluded, of one form of test `name`: in
 * each of {@link PROCESSES} fresh processes the median of `runs` runs after
 * `warmUps` (the first runs of a process measure the JIT compiling the
 * model), and the median of those. Also the fastest run and the row printed.
 */
function wallNsPerOpExclBoot(
  name: string,
  times: number,
  loop: boolean,
  prep: boolean,
  runs = 9,
  warmUps = 10,
  nodeFlags: readonly string[] = [],
): { ns: number; fastest: number; exclPrep: number; row: string } {
  const medians: number[] = [];
  const exclPrep: number[] = [];
  let fastest = Number.POSITIVE_INFINITY;
  let row = "";
  for (let p = 0; p < PROCESSES; p++) {
    const out = runSpanProcess(spanRunner, name, times, loop, runs, warmUps, { prep, nodeFlags });
    if (p > 0 && out.row !== row) throw new Error(`micro-bench ${name}: two measuring processes printed ${row} and ${out.row}`);
    row = out.row;
    medians.push(median(out.perOp));
    if (out.perOpExclPrep !== undefined) exclPrep.push(out.perOpExclPrep);
    fastest = Math.min(fastest, out.perOp[0]!);
  }
  const round = (ns: number): number => Math.round(ns * 10) / 10;
  return { ns: round(median(medians)), fastest: round(fastest), exclPrep: exclPrep.length > 0 ? round(median(exclPrep)) : Number.NaN, row };
}

/** `w` over `n` operations, each count to two decimals. */
function perOp(w: ModelWork, n: number): ModelWork {
  const r = (x: number): number => Math.round((x / n) * 100) / 100;
  return { events: r(w.events), kvmRuns: r(w.kvmRuns), continuations: r(w.continuations), exits: r(w.exits) };
}

describe("micro-bench on -M virt -accel kvm -smp 2: wall ns per operation, virtual ns the guest measured", () => {
  const cases = ["hyp_call", "mmio_read_user", "mmio_read_vgic", "eoi", "ipi", "lpi"];
  bench("boot and power off, no test [x1]", () => void runMicroBench([], 1));
  for (const name of cases) {
    const times = microBenchTimes(name);
    const full = runMicroBench([name], times);
    const { row, avg } = guestRow(full.out, name);
    // What the model does per operation, prep excluded (the run of one iteration taken off).
    const modelWorkPerOp = perOp(workBetween(runMicroBench([name], 1).work, full.work), times - 1);
    // ipi and lpi prepare (the distributor, the ITS) before their loop; the others only build their op.
    const hasPrep = name === "ipi" || name === "lpi";
    const fast = wallNsPerOpExclBoot(name, times, false, hasPrep);
    // The same guest with its repeats and polls as loops of yields (the generator form).
    const loop = wallNsPerOpExclBoot(name, times, true, false);
    // ipi and lpi once more at the source's iteration count (see above).
    const sourceTimes = MICRO_BENCH_TESTS.find((t) => t.name === name)?.times ?? times;
    const source = hasPrep && sourceTimes !== times ? wallNsPerOpExclBoot(name, sourceTimes, false, true, 5, 2) : undefined;
    // And with the optimising compiler on the measured thread (see above).
    const steady = source !== undefined ? wallNsPerOpExclBoot(name, sourceTimes, false, true, 5, 2, STEADY_NODE_FLAGS) : undefined;
    // Sixteen times the iterations: a different total, the same average.
    for (const r of [source, steady]) if (r !== undefined && guestRow(r.row, name).avg !== avg) throw new Error(`micro-bench ${name}: ${r.row} against ${row}`);
    for (const r of [fast.row, loop.row]) if (r !== row) throw new Error(`micro-bench ${name}: a measuring process printed ${r}, this one ${row}`);
    const heapBytesPerOp = bytesPerOp(name, sourceTimes);
    bench(`micro-bench ${name} [x${times}]`, () => void runMicroBench([name], times), {
      meta: {
        virtualNsPerOp: avg,
        guestRow: row,
        modelWorkPerOp,
        bytesPerOp: heapBytesPerOp,
        processes: PROCESSES,
        wallNsPerOpExclBoot: fast.ns,
        wallNsPerOpExclBootFastest: fast.fastest,
        ...(hasPrep ? { wallNsPerOpExclPrep: fast.exclPrep } : {}),
        ...(source !== undefined ? { sourceTimes, wallNsPerOpExclBootSourceTimes: source.ns, wallNsPerOpExclPrepSourceTimes: source.exclPrep } : {}),
        ...(steady !== undefined ? { wallNsPerOpExclBootSteady: steady.ns, wallNsPerOpExclPrepSteady: steady.exclPrep } : {}),
        wallNsPerOpExclBootLoopOfYields: loop.ns,
        fastToLoopRatio: Math.round((fast.ns / loop.ns) * 100) / 100,
      },
    } as object);
  }
});
