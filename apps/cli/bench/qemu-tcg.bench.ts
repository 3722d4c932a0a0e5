/**
 * irqlab beside QEMU's TCG, measured in one run: kvm-unit-tests' micro-bench
 * and its-trigger as the suite builds them, under QEMU's TCG, and irqlab's
 * guests of the same two under `-M virt -accel kvm`. The figure that matters
 * is the ratio, irqlab's time over QEMU's (`meta.ratioToQemuTcg`), taken
 * from rounds that alternate the two: a slow phase of a shared machine slows
 * both, where it moves either side's absolute figures by half from one run
 * to the next. irqlab's goal per guest operation is a tenth of QEMU's time
 * (`meta.goalRatio`).
 *
 * It needs a kvm-unit-tests tree built for arm64, named by
 * IRQLAB_KVM_UNIT_TESTS, and QEMU (qemu-tcg-run.ts); without either it says
 * why on stderr and records nothing.
 *
 * Each of {@link ROUNDS} rounds runs, in turn:
 * - QEMU's micro-bench (`-smp 2`), whose guest measures each operation's
 *   "avg ns" with CNTVCT_EL0: under TCG without icount that counter follows
 *   the host's clock (QEMU_CLOCK_VIRTUAL), so its figure is wall time. QEMU
 *   runs unpinned, as a user runs it; pinned to one CPU it was no faster.
 * - irqlab's micro-bench, each test in a span process of its own
 *   (micro-bench.bench.ts's method: pinned, the source's 65,536 iterations):
 *   the median wall ns per operation from the table's header to the test's
 *   row. For ipi and lpi, five runs after two warm-ups (each run is a tenth
 *   of a second), with the test's prep (the distributor's, the ITS's set-up)
 *   left out as the guest's own figure leaves it out, in either simulator:
 *   each run is followed by one of a single iteration, whose median span is
 *   taken off. The others prepare nothing but their op, and their 65,536
 *   operations take a few hundred microseconds, about what a compile of the
 *   model's code beside them adds: nine runs after ten warm-ups, prep in
 *   (a difference of two such spans would be mostly noise).
 * - QEMU's its-trigger (gic.flat, `-smp 4`) and {@link ITS_TRIGGER_PER_ROUND}
 *   of irqlab's (its-trigger-process.bench.ts's command, with its code
 *   cache): the whole process, start to exit.
 *
 * A result's figure is irqlab's median over the rounds (for its-trigger
 * each round's median process), `meta.qemuTcgNsPerOp` QEMU's, and
 * `meta.ratioToQemuTcg` the median of the rounds' ratios: each round's two
 * figures were taken within seconds of each other. `meta.rounds` holds every
 * round's figures, and for micro-bench `meta.irqlabVirtualNsPerOp` is the
 * virtual ns irqlab's guest measured.
 */
import { bench, describe } from "vitest";
import { MICRO_BENCH_SPAN, SOURCE_TIMES, median, runSpanProcess } from "../../../scripts/micro-bench-process.mjs";
import { bundleForProcess } from "../../../scripts/source-bundle.mjs";
import { ITS_TRIGGER_PASSED, runItsTrigger, shipItsTrigger, type ShippedItsTrigger } from "./its-trigger-command.js";
import { guestRow, runMicroBench } from "./micro-bench-run.js";
import { findQemuTcgSetup, qemuTcgArgs, runQemuTcg, type QemuTcgSetup } from "./qemu-tcg-run.js";

/** micro-bench's operations compared. */
const OPS = ["hyp_call", "mmio_read_user", "mmio_read_vgic", "eoi", "ipi", "lpi"] as const;
/** Rounds of both simulators. */
const ROUNDS = 5;
/** irqlab's its-trigger processes per round: each is a few tenths of a second, QEMU's more than a second. */
const ITS_TRIGGER_PER_ROUND = 3;
/** irqlab's goal per guest operation: ten times QEMU's TCG's speed. */
const GOAL_RATIO = 0.1;

/** Every figure of one result, round by round: irqlab's, QEMU's and the first over the second. */
interface Figures {
  irqlab: number[];
  qemuTcg: number[];
  ratio: number[];
}

/** Wall ns of one call of `f`. */
function timeNs(f: () => void): number {
  const t0 = process.hrtime.bigint();
  f();
  return Number(process.hrtime.bigint() - t0);
}

const hundredths = (x: number): number => Math.round(x * 100) / 100;
const thousandths = (x: number): number => Math.round(x * 1000) / 1000;

/** (largest − smallest) / median, in per cent. */
function spreadPercent(xs: readonly number[]): number {
  return ((Math.max(...xs) - Math.min(...xs)) / median(xs)) * 100;
}

/** The rounds (see the module's doc): each operation's figures, its-trigger's, and irqlab's virtual ns per operation. */
async function measure(setup: QemuTcgSetup): Promise<{ figures: Map<string, Figures>; virtualNs: Map<string, number>; cmd: ShippedItsTrigger }> {
  const spanRunner = bundleForProcess(MICRO_BENCH_SPAN, "micro-bench-span.mjs");
  const cmd = await shipItsTrigger("qemu-tcg-code-cache");
  runItsTrigger(cmd); // writes the code cache the measured runs start from
  const figures = new Map<string, Figures>();
  const virtualNs = new Map<string, number>();
  const add = (name: string, irqlab: number, qemuTcg: number): void => {
    let f = figures.get(name);
    if (f === undefined) figures.set(name, (f = { irqlab: [], qemuTcg: [], ratio: [] }));
    f.irqlab.push(irqlab);
    f.qemuTcg.push(qemuTcg);
    f.ratio.push(irqlab / qemuTcg);
  };
  for (let r = 0; r < ROUNDS; r++) {
    const q = runQemuTcg(setup, setup.microBench, 2);
    for (const op of OPS) {
      const hasPrep = op === "ipi" || op === "lpi";
      const s = hasPrep ? runSpanProcess(spanRunner, op, SOURCE_TIMES, false, 5, 2, { prep: true }) : runSpanProcess(spanRunner, op, SOURCE_TIMES, false, 9, 10);
      add(op, hasPrep ? s.perOpExclPrep! : median(s.perOp), guestRow(q.out, op).avg);
      virtualNs.set(op, guestRow(s.row, op).avg);
    }
    const its = runQemuTcg(setup, setup.gic, 4, "its-trigger");
    if (!ITS_TRIGGER_PASSED.test(its.out)) throw new Error(`QEMU's its-trigger did not pass:\n${its.out}`);
    const processes: number[] = [];
    for (let i = 0; i < ITS_TRIGGER_PER_ROUND; i++) processes.push(timeNs(() => runItsTrigger(cmd)));
    add("its-trigger", median(processes), its.wallNs);
  }
  return { figures, virtualNs, cmd };
}

const setup = findQemuTcgSetup();
if (typeof setup === "string") {
  process.stderr.write(`  irqlab against QEMU's TCG: not measured: ${setup}\n`);
} else {
  const { figures, virtualNs, cmd } = await measure(setup);
  const result = (name: string, extra: object): object => {
    const f = figures.get(name)!;
    const ns = median(f.irqlab);
    const qemuNs = median(f.qemuTcg);
    const rounds = { irqlab: f.irqlab.map(hundredths), qemuTcg: f.qemuTcg, ratio: f.ratio.map(thousandths) };
    return {
      measured: { wallNsPerOp: ns, spreadPercent: spreadPercent(f.irqlab) },
      meta: { qemuTcgNsPerOp: qemuNs, ratioToQemuTcg: thousandths(median(f.ratio)), ...extra, rounds, qemu: setup.version },
    };
  };
  describe("irqlab against QEMU's TCG (kvm-unit-tests), in one run", () => {
    const qemuCommand = `${setup.qemu} ${qemuTcgArgs(setup.microBench, 2).join(" ")}`;
    for (const op of OPS) {
      bench(
        `micro-bench ${op}: wall ns per operation`,
        () => void runMicroBench([op], SOURCE_TIMES),
        result(op, { goalRatio: GOAL_RATIO, iterations: SOURCE_TIMES, irqlabVirtualNsPerOp: virtualNs.get(op), qemuCommand }),
      );
    }
    const itsCommand = `${setup.qemu} ${qemuTcgArgs(setup.gic, 4, "its-trigger").join(" ")}`;
    bench("its-trigger: the whole process", () => runItsTrigger(cmd), result("its-trigger", { qemuCommand: itsCommand }));
  });
}
