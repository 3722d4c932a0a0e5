/**
 * A repeat of an op whose execution changes nothing but the clock — an
 * SMCCC query, a load of RAM or of a vgic register, an EOI of a special
 * INTID, an ICC register read, an EL1 register — passes in bulk while
 * nothing else can run. It must still execute as its loop of yields does:
 * a handler that changes what the op reads (a line raised, an interrupt to
 * take) is seen by the next execution after it, whenever in a turn it runs.
 * Each case runs one guest written both ways and compares what the VMM and
 * a trace reader can observe, untraced (the bulk path) and traced.
 */
import {
  GICD_CTLR,
  GICD_CTLR_ARE_NS,
  GICD_CTLR_ENABLE_SS_G1,
  GICD_IIDR,
  GICD_ISENABLER,
  GICD_ISPENDR,
  ICC_EOIR1_EL1,
  ICC_IAR1_EL1,
  ICC_IGRPEN1_EL1,
  ICC_PMR_EL1,
  INTID_SPURIOUS,
} from "@irqlab/gic";
import { EventQueue, loopForm, op, Tracer, type GuestOp, type GuestProgram } from "@irqlab/sim";
import { describe, expect, test } from "vitest";
import { ACK, DONE, GICD, TPIDR_EL1, expectLoopFormEqual, type LoopFormSetup } from "../test/loop-form-rig.js";
import { DEFAULT_COSTS } from "./cost-model.js";
import { CSR_SIE, IRQ_S_TIMER, KVM_EXIT_MMIO, Kvm, SBI_EXT_BASE, SBI_EXT_BASE_PROBE_EXT, SBI_EXT_TIME, SBI_EXT_TIME_SET_TIMER } from "./index.js";
import { CSR_TIME } from "./riscv-time.js";
import { KVM_ARM_IRQ_TYPE_SHIFT, KVM_ARM_IRQ_TYPE_SPI } from "./uapi/device-types.js";
import type { Vm } from "./vm.js";

/** The SPI the host raises; its bit in GICD_ISPENDR1 / ISENABLER1. */
const SPI = 40;
const SPI_BIT = 1 << (SPI - 32);
/** KVM_IRQ_LINE's irq field for it (arm64: type SPI, the INTID). */
const SPI_LINE = (KVM_ARM_IRQ_TYPE_SPI << KVM_ARM_IRQ_TYPE_SHIFT) | SPI;

/** The distributor on, SPI 40 enabled, ICC_PMR_EL1 and ICC_IGRPEN1_EL1 open: an SPI raised is an IRQ the vCPU can take. */
function* gicOn(): Generator<GuestOp, void, unknown> {
  yield op.write(GICD + GICD_CTLR, 4, GICD_CTLR_ARE_NS | GICD_CTLR_ENABLE_SS_G1);
  yield op.write(GICD + GICD_ISENABLER + 4, 4, SPI_BIT);
  yield op.msr(ICC_PMR_EL1, 0xff);
  yield op.msr(ICC_IGRPEN1_EL1, 1);
}

interface Case {
  /** The repeated op and its count. */
  readonly body: GuestOp;
  readonly n: number;
  /** The guest unmasks interrupts first (and the vector acknowledges, EOIs and tells the VMM to lower the line). */
  readonly unmask?: boolean;
  /** Host events: SPI 40 raised at these times (lowered at the vector's ACK). */
  readonly raiseAt?: readonly number[];
  readonly trace: boolean;
}

/** A guest that opens the GIC, runs the repeat, notes the last result and the guest errors, then reports done. */
function setup(c: Case): LoopFormSetup {
  return {
    vgic: true,
    trace: c.trace,
    main: function* (note) {
      yield* gicOn();
      if (c.unmask === true) yield op.unmask();
      note(`last=${(yield op.repeat(c.n, c.body)).value}`);
      yield op.write(DONE, 4, 0);
    },
    vector: function* (note) {
      const intid = (yield op.mrs(ICC_IAR1_EL1)).value;
      note(`taken ${intid}`);
      yield op.msr(ICC_EOIR1_EL1, intid);
      yield op.write(ACK, 4, 0);
    },
    ack: (vm) => vm.irqLine(SPI_LINE, 0),
    events: (c.raiseAt ?? []).map((t) => [t, (vm: Vm) => vm.irqLine(SPI_LINE, 1)] as const),
    after: (vm) => [`guest errors ${vm.tracer.guestErrors}`],
  };
}

/** Both forms, untraced and traced; returns the untraced run's last value and interrupts taken. */
function expectSame(c: Omit<Case, "trace">): { last: number; taken: string[]; errors: string | undefined } {
  expectLoopFormEqual(setup({ ...c, trace: true }));
  const r = expectLoopFormEqual(setup({ ...c, trace: false }));
  const last = r.log.find((l) => l.startsWith("last="));
  return {
    last: Number(/^last=(\d+)/.exec(last ?? "")?.[1] ?? -1),
    taken: r.log.filter((l) => l.startsWith("taken")),
    errors: r.log.find((l) => l.startsWith("guest errors")),
  };
}

describe("a repeat of an op that changes nothing but the clock executes as its loop of yields does", () => {
  test("GICD_ISPENDR1 read 300 times, SPI 40 raised at every 7th nanosecond of two reads: the read after the raise sees it", () => {
    // The guest's set-up takes 2 in-kernel stores and 2 MSRs; the raise sweeps two whole reads from 20 µs on.
    const turn = DEFAULT_COSTS.mmioInKernel;
    for (let at = 20_000; at < 20_000 + 2 * turn; at += 7) {
      const r = expectSame({ body: op.read(GICD + GICD_ISPENDR + 4, 4), n: 300, raiseAt: [at] });
      expect(r.last & SPI_BIT).toBe(SPI_BIT);
    }
  });

  test("a read of an unknown GICD offset 200 times: 200 guest errors either way", () => {
    const r = expectSame({ body: op.read(GICD + 0x7ffc, 4), n: 200 });
    expect(r.errors).toBe("guest errors 200");
  });

  test("GICD_IIDR, ICC_PMR_EL1 and an EOIR of the spurious INTID, with SPIs taken between executions", () => {
    // Each repeat lasts over 1 ms: 5000 in-kernel loads of 451 ns, 100 000 direct ICC accesses of 14 ns.
    const cases: [GuestOp, number][] = [
      [op.read(GICD + GICD_IIDR, 4), 5000],
      [op.mrs(ICC_PMR_EL1), 100_000],
      [op.msr(ICC_EOIR1_EL1, INTID_SPURIOUS), 100_000],
    ];
    for (const [body, n] of cases) {
      const r = expectSame({ body, n, unmask: true, raiseAt: [30_000, 150_000, 600_000] });
      expect(r.taken).toHaveLength(3);
      expect(r.taken[0]).toMatch(new RegExp(`^taken ${SPI}@`));
    }
  });

  test("an acknowledge is not quiet: ICC_IAR1_EL1 read 50 times takes the pending SPI once, then reads 1023", () => {
    const r = expectSame({ body: op.mrs(ICC_IAR1_EL1), n: 50, raiseAt: [100] });
    expect(r.last).toBe(INTID_SPURIOUS);
  });

  test("SMCCC_VERSION and an EL1 register held for the guest, 5000 times with SPIs taken between", () => {
    // 5000 HVCs of 306 ns, 100 000 accesses of 14 ns: each repeat lasts over 1 ms.
    const cases: [GuestOp, number][] = [
      [op.hvc([0x8000_0000]), 5000],
      [op.mrs(TPIDR_EL1), 100_000],
      [op.msr(TPIDR_EL1, 5), 100_000],
    ];
    for (const [body, n] of cases) {
      const r = expectSame({ body, n, unmask: true, raiseAt: [40_000, 400_000] });
      expect(r.taken).toHaveLength(2);
    }
  });
});

/**
 * A RISC-V vCPU that arms its timer `ticks` ahead each time it fires (four
 * times), then runs `n` SBI BASE probe_extension calls as one repeat; the log
 * has the virtual times of the vector's entries, the last answer and the end.
 */
function riscvRun(form: "op" | "loop", n: number, ticks: number, trace: boolean): string[] {
  const queue = new EventQueue();
  const kvm = new Kvm({ arch: "riscv64", queue, tracer: new Tracer(queue, { enabled: trace }) });
  const h = kvm.createVm(0, { timebaseHz: 10_000_000 }).createVcpu(0);
  const log: string[] = [];
  let fired = 0;
  const main = function* (): GuestProgram {
    yield op.csrSet(CSR_SIE, 1 << IRQ_S_TIMER);
    const t = (yield op.csrRead(CSR_TIME)).value;
    yield op.sbi(SBI_EXT_TIME, SBI_EXT_TIME_SET_TIMER, [t + ticks]);
    yield op.unmask();
    log.push(`last=${(yield op.repeat(n, op.sbi(SBI_EXT_BASE, SBI_EXT_BASE_PROBE_EXT, [SBI_EXT_TIME]))).value}`);
    yield op.read(0x1000_0000, 4);
  };
  h.loadGuest({
    main: form === "op" ? main : () => loopForm(main()),
    vector: function* () {
      log.push(`timer@${queue.now}`);
      const t = (yield op.csrRead(CSR_TIME)).value;
      // Four interrupts, then a deadline far away (STIP drops either way).
      yield op.sbi(SBI_EXT_TIME, SBI_EXT_TIME_SET_TIMER, ++fired < 4 ? [t + ticks] : [0xffff_ffff, 0xffff_ffff]);
    },
  });
  expect(h.run().reason).toBe(KVM_EXIT_MMIO);
  log.push(`end@${queue.now}`, kvm.tracer.toText());
  return log;
}

test("RISC-V: an SBI BASE call 10 000 times, timer interrupts taken between executions, as its loop of yields", () => {
  for (const trace of [false, true]) {
    const fast = riscvRun("op", 10_000, 777, trace);
    expect(fast).toEqual(riscvRun("loop", 10_000, 777, trace));
    expect(fast.filter((l) => l.startsWith("timer@"))).toHaveLength(4);
    expect(fast).toContain("last=1"); // probe_extension(TIME): available
  }
});
