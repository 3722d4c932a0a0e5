/**
 * Trace flows: every interrupt a vCPU takes ends the flow begun by the raise
 * that caused it, whichever path the raise took — signalled at once, latched
 * pending while the guest had it disabled and signalled when the guest
 * enabled it, a timer's or the PMU's output, a device MSI translated by the
 * host ITS. A reviewer follows these arrows in Perfetto from the raise to
 * the take.
 */
import { EventQueue, Tracer, op, type InstantEvent, type TraceEvent } from "@irqlab/sim";
import {
  GICD_CTLR,
  GICD_CTLR_ENABLE_SS_G1,
  GICR_ISENABLER0,
  GICR_SGI_BASE,
  ICC_EOIR1_EL1,
  ICC_IAR1_EL1,
  ICC_IGRPEN1_EL1,
  ICC_PMR_EL1,
  ICC_SGI1R_EL1,
} from "@irqlab/gic";
import { describe, expect, test } from "vitest";
import { BasicIrqChip, FlushedIrqSource } from "./irqchip.js";
import { Kvm } from "./kvm.js";
import { KVM_ARM_TARGET_GENERIC_V8 } from "./uapi/device-types.js";
import { KVM_EXIT_INTR, KVM_EXIT_MMIO } from "./uapi/exit-reasons.js";
import { armVm, DIST_BASE, ids, loadDriver, REDIST_BASE } from "./vgic/test-fixture.js";

const SPI = 40;
/** KVM_IRQ_LINE: irq_type 1 (SPI) in bits 24-31, the INTID in bits 0-15. */
const SPI_LINE = (1 << 24) | SPI;

/** The flow ids the raises named `raise` begin, and the flow each irq-taken ends (0: none). */
function flows(all: readonly TraceEvent[], raise: string): { begun: number[]; taken: number[] } {
  const events = all.filter((e): e is InstantEvent => e.phase === "instant");
  return {
    begun: events.filter((e) => e.name === raise && e.flowOut !== undefined).map((e) => e.flowOut!),
    taken: events.filter((e) => e.name === "irq-taken").map((e) => e.flowIn ?? 0),
  };
}

describe("an SPI raised before the guest enables it", () => {
  // vgic.c vgic_queue_irq_unlock: a disabled SPI is latched pending and queued to no vCPU;
  // the GICD_ISENABLER write (vgic_mmio_write_senable) queues it and kicks the vCPU later.
  test("is taken at the end of the flow of the KVM_IRQ_LINE that latched it", () => {
    const { vm, vcpus } = armVm({ trace: true });
    const log = loadDriver(vcpus[0]!, { spis: [{ intid: SPI, edge: true }] });
    vm.irqLine(SPI_LINE, 1);
    vm.irqLine(SPI_LINE, 0);
    const e = vcpus[0]!.run(0, { until: 100_000 });
    expect(e.reason).toBe(KVM_EXIT_INTR);
    expect(ids(log.acked)).toEqual([SPI]);
    const f = flows(vm.tracer.events(), "kvm_irq_line");
    expect(f.begun).toHaveLength(1);
    expect(f.taken).toEqual(f.begun);
  });

  test("a later assertion outside any raise forgets the earlier raise's flow", () => {
    const { vm, vcpus, vgic } = armVm({ trace: true });
    const log = loadDriver(vcpus[0]!, { spis: [{ intid: SPI, edge: true }] });
    vm.irqLine(SPI_LINE, 1);
    vm.irqLine(SPI_LINE, 0);
    // The same SPI asserted again with no raise open (as an in-kernel source would, untraced).
    vgic.irqLine(1, 0, SPI, true);
    vcpus[0]!.run(0, { until: 100_000 });
    expect(ids(log.acked)).toEqual([SPI]);
    expect(flows(vm.tracer.events(), "kvm_irq_line").taken).toEqual([0]);
  });
});

test("the PMU's overflow begins the flow its interrupt's take ends (a userspace irqchip's in-kernel source)", () => {
  const queue = new EventQueue();
  const kvm = new Kvm({ queue, tracer: new Tracer(queue, { enabled: true }) });
  const vm = kvm.createVm(0, { runnablePolicy: "irq-pending-request" });
  const v = vm.createVcpu(0);
  v.armVcpuInit({ target: KVM_ARM_TARGET_GENERIC_V8 });
  const chip = v.irqChip;
  if (!(chip instanceof BasicIrqChip)) throw new Error("expected the built-in chip");
  const pmu = chip.addSource(new FlushedIrqSource("pmu", 0));
  v.loadGuest({
    main: function* () {
      yield op.unmask();
      for (;;) yield op.wfi();
    },
    vector: function* () {
      yield op.write(0x2000, 4, 0);
    },
  });
  queue.schedule(20_000, () => pmu.raise(), undefined);
  const e = v.run();
  expect(e.reason === KVM_EXIT_MMIO && e.physAddr).toBe(0x2000);
  const f = flows(kvm.tracer.events(), "source-raise");
  expect(f.begun).toHaveLength(1);
  expect(f.taken).toEqual(f.begun);
  expect(kvm.tracer.events().find((x): x is InstantEvent => x.name === "source-raise" && x.phase === "instant")?.args).toEqual({ source: "pmu", line: 0 });
});

test("an SGI begins its flow at the sender's ICC_SGI1R_EL1 write (vgic_v3_dispatch_sgi) and ends it at the target's take", () => {
  const { vm, vcpus } = armVm({ vcpus: 2, trace: true });
  const [sender, target] = [vcpus[0]!, vcpus[1]!];
  const SGI = 3;
  const taken: number[] = [];
  target.loadGuest({
    main: function* () {
      yield op.write(DIST_BASE + GICD_CTLR, 4, GICD_CTLR_ENABLE_SS_G1);
      yield op.write(REDIST_BASE + 0x2_0000 + GICR_SGI_BASE + GICR_ISENABLER0, 4, 1 << SGI);
      yield op.msr(ICC_PMR_EL1, 0xff);
      yield op.msr(ICC_IGRPEN1_EL1, 1);
      yield op.unmask();
      for (;;) yield op.wfi();
    },
    vector: function* () {
      const intid = (yield op.mrs(ICC_IAR1_EL1)).value;
      taken.push(intid);
      yield op.msr(ICC_EOIR1_EL1, intid);
      yield op.write(0x1000, 4, intid);
    },
  });
  // ICC_SGI1R_EL1: INTID in bits 24-27, the target list (Aff0 = 1: vCPU 1) in bits 0-15.
  sender.loadGuest({
    main: function* () {
      yield op.msr(ICC_SGI1R_EL1, (SGI << 24) | (1 << 1));
      yield op.write(0x2000, 4, 0);
    },
  });
  expect(target.run(0, { onWakeup: () => undefined }).reason).toBe(KVM_EXIT_INTR);
  expect(sender.run().reason).toBe(KVM_EXIT_MMIO);
  expect(target.run().reason).toBe(KVM_EXIT_MMIO);
  expect(taken).toEqual([SGI]);
  const f = flows(vm.tracer.events(), "vgic_v3_dispatch_sgi");
  expect(f.begun).toHaveLength(1);
  expect(f.taken).toEqual(f.begun);
});
