/**
 * RunOptions.quietLoads: a repeated load that exits to a VMM which answers
 * it quietly returns from KVM_RUN for the last of a run of its executions
 * only, the others answered inside the run. A VMM that passes quietLoads
 * must observe what one that answers every exit observes — the same exits
 * (returned plus answered), the same interrupt taken at the same time, the
 * same host events at the same times with the same exits counted before
 * them, the same last value, the same end — and the run must return for
 * every exit when the load is not quiet or the run is traced.
 */
import { GICD_CTLR, GICD_CTLR_ARE_NS, GICD_CTLR_ENABLE_SS_G1, GICD_ISENABLER, ICC_EOIR1_EL1, ICC_IAR1_EL1, ICC_IGRPEN1_EL1, ICC_PMR_EL1 } from "@irqlab/gic";
import { EventQueue, op, Tracer, type GuestOp, type GuestProgram } from "@irqlab/sim";
import { describe, expect, test } from "vitest";
import { ACK, DONE, GICD, GICR, RAM, USER } from "../test/loop-form-rig.js";
import { vgicV3Setup } from "../test/kvm-selftests/lib/vgic.js";
import { DEFAULT_COSTS } from "./cost-model.js";
import { KVM_ARM_TARGET_GENERIC_V8, KVM_EXIT_INTR, KVM_EXIT_MMIO, Kvm, type RunOptions } from "./index.js";
import { KVM_ARM_IRQ_TYPE_SHIFT, KVM_ARM_IRQ_TYPE_SPI } from "./uapi/device-types.js";

const SPI = 40;
const SPI_LINE = (KVM_ARM_IRQ_TYPE_SPI << KVM_ARM_IRQ_TYPE_SHIFT) | SPI;
/** What the VMM answers every load at {@link USER} with. */
const ANSWER = 0x5a;
/** One execution of the repeated load: its exit to the VMM. */
const TURN = DEFAULT_COSTS.exitToUserspace;

interface Case {
  /** The repeated op (a load of {@link USER} unless a test says otherwise), its count and stride. */
  readonly body?: GuestOp;
  readonly n: number;
  readonly stride?: number;
  /** Host events: SPI 40 raised at these times. */
  readonly raiseAt?: readonly number[];
  /** Host events that only log (and count the exits so far) at these times. */
  readonly markAt?: readonly number[];
  /** KVM_RUN deadlines: each call runs to at most now + slice. */
  readonly slice?: number;
  readonly trace?: boolean;
  /** What the VMM says of a load's quietness (the VMM without quietLoads never says). */
  readonly quiet?: (addr: number) => boolean;
}

interface Outcome {
  /** Events, interrupts and the guest's last value, each with its virtual time and the exits counted by then. */
  readonly log: string[];
  /** MMIO exits that KVM_RUN returned. */
  readonly returned: number;
  /** Loads the run answered for the VMM. */
  readonly answered: number;
  /** KVM_RUN calls the VMM made plus those answered loads stand for. */
  readonly runs: number;
  /** The kvm.exit.KVM_EXIT_MMIO counter. */
  readonly counted: number;
  readonly end: number;
}

function run(c: Case, withQuietLoads: boolean): Outcome {
  const queue = new EventQueue();
  const kvm = new Kvm({ queue, tracer: new Tracer(queue, { enabled: c.trace ?? false }) });
  const vm = kvm.createVm();
  vm.setUserMemoryRegion({ slot: 0, guestPhysAddr: RAM, memorySize: 0x1_0000 });
  const v = vm.createVcpu(0);
  v.armVcpuInit({ target: KVM_ARM_TARGET_GENERIC_V8 });
  vgicV3Setup(vm, 1, 64, GICD, GICR);
  const log: string[] = [];
  let returned = 0;
  let answered = 0;
  let runs = 0;
  const exits = () => returned + answered;
  const note = (what: string) => log.push(`${what}@${queue.now} after ${exits()} exits`);
  v.loadGuest({
    main: function* (): GuestProgram {
      yield op.write(GICD + GICD_CTLR, 4, GICD_CTLR_ARE_NS | GICD_CTLR_ENABLE_SS_G1);
      yield op.write(GICD + GICD_ISENABLER + 4, 4, 1 << (SPI - 32));
      yield op.msr(ICC_PMR_EL1, 0xff);
      yield op.msr(ICC_IGRPEN1_EL1, 1);
      yield op.unmask();
      note(`last=${(yield op.repeat(c.n, c.body ?? op.read(USER, 4), c.stride)).value}`);
      yield op.write(DONE, 4, 0);
    },
    vector: function* (): GuestProgram {
      const intid = (yield op.mrs(ICC_IAR1_EL1)).value;
      note(`taken ${intid}`);
      yield op.msr(ICC_EOIR1_EL1, intid);
      yield op.write(ACK, 4, 0);
    },
  });
  for (const t of c.raiseAt ?? []) queue.schedule(t, () => vm.irqLine(SPI_LINE, 1), undefined);
  for (const t of c.markAt ?? []) queue.schedule(t, () => note("mark"), undefined);
  const quiet = c.quiet ?? ((addr: number) => addr === USER);
  const quietLoads = { quiet: (addr: number) => quiet(addr), answered: (n: number) => void (answered += n) };
  for (let calls = 0; calls < 1_000_000; calls++) {
    const options: RunOptions = {
      ...(c.slice !== undefined ? { until: queue.now + c.slice } : {}),
      ...(withQuietLoads ? { quietLoads } : {}),
    };
    runs++;
    const e = v.run(0, options);
    if (e.reason === KVM_EXIT_INTR) continue;
    expect(e.reason).toBe(KVM_EXIT_MMIO);
    if (e.reason !== KVM_EXIT_MMIO) break;
    if (e.physAddr === DONE) break;
    if (e.physAddr === ACK) vm.irqLine(SPI_LINE, 0);
    else if (!e.isWrite) {
      returned++;
      e.data.set([ANSWER, 0, 0, 0]);
    }
  }
  return { log, returned, answered, runs: runs + answered, counted: kvm.tracer.counters.toJSON()["kvm.exit.KVM_EXIT_MMIO"] ?? 0, end: queue.now };
}

/** Runs the case with and without quietLoads; expects the same observations; returns the run with them. */
function expectSame(c: Case): Outcome {
  const every = run(c, false);
  const quiet = run(c, true);
  expect(every.answered).toBe(0);
  expect(quiet.log).toEqual(every.log);
  expect(quiet.end).toBe(every.end);
  expect(quiet.counted).toBe(every.counted);
  expect(quiet.returned + quiet.answered).toBe(every.returned);
  expect(quiet.runs).toBe(every.runs);
  return quiet;
}

describe("RunOptions.quietLoads: a repeated quiet load returns only for the last of each run of its executions", () => {
  test("1000 loads, nothing else running: one returns, 999 are answered in the run, the same time and last value", () => {
    const r = expectSame({ n: 1000 });
    expect(r.returned).toBe(1);
    expect(r.answered).toBe(999);
    expect(r.log).toHaveLength(1);
    expect(r.log[0]).toMatch(new RegExp(`^last=${ANSWER}@\\d+ after 1000 exits$`));
  });

  test("host events in the middle, one on a turn's boundary: each sees the exits of the turns before it", () => {
    // The set-up takes two in-kernel stores and two MSRs; the marks fall inside the repeat.
    const start = 4 * DEFAULT_COSTS.mmioInKernel;
    const r = expectSame({ n: 500, markAt: [start + 10 * TURN, start + 10 * TURN + 1, start + 123 * TURN + 17, start + 400 * TURN] });
    expect(r.log.filter((l) => l.startsWith("mark"))).toHaveLength(4);
    expect(r.returned).toBeGreaterThan(1);
    expect(r.answered).toBeGreaterThan(400);
  });

  test("SPI 40 raised in the middle: the vector runs at the same time, between the same two loads", () => {
    for (const at of [100_000, 100_000 + Math.floor(TURN / 2), 333_333]) {
      const r = expectSame({ n: 800, raiseAt: [at] });
      expect(r.log.filter((l) => l.startsWith(`taken ${SPI}`))).toHaveLength(1);
      expect(r.answered).toBeGreaterThan(700);
    }
  });

  test("KVM_RUN with a deadline every 7 turns and a bit: the deadlines cut the runs where they would", () => {
    const r = expectSame({ n: 300, slice: 7 * TURN + 5, markAt: [50_000] });
    expect(r.answered).toBeGreaterThan(0);
  });

  test("not quiet (a load with a side effect): every load returns", () => {
    const r = expectSame({ n: 200, quiet: () => false });
    expect(r.answered).toBe(0);
    expect(r.returned).toBe(200);
  });

  test("traced: every load returns, so that each exit is in the trace", () => {
    const r = expectSame({ n: 200, trace: true });
    expect(r.answered).toBe(0);
  });

  test("a load of RAM or of an in-kernel device never exits, and a store is never answered", () => {
    expect(expectSame({ n: 300, body: op.read(RAM, 4) }).returned).toBe(0);
    expect(expectSame({ n: 300, body: op.read(GICD + GICD_CTLR, 4) }).returned).toBe(0);
    const store = run({ n: 50, body: op.write(USER, 4, 1) }, true);
    expect(store.answered).toBe(0);
  });

  test("a repeat with a stride reads a different address each time: never answered", () => {
    const r = expectSame({ n: 64, stride: 4 });
    expect(r.answered).toBe(0);
  });
});
