/**
 * The arm64 EL1 timers of a KVM vCPU: register semantics (Arm ARM D11.2.4),
 * the PPI each drives into the vgic (arch/arm64/kvm/arch_timer.c
 * kvm_timer_update_irq), WFI wake-up by an expiring timer, the
 * KVM_ARM_VCPU_TIMER_CTRL attributes and their errnos, and the
 * device_irq_level report to a userspace irqchip.
 */

import {
  GICD_CTLR,
  GICD_CTLR_ENABLE_SS_G1,
  GICR_ISENABLER0,
  GICR_ISPENDR0,
  GICR_SGI_BASE,
  ICC_EOIR1_EL1,
  ICC_IAR1_EL1,
  ICC_IGRPEN1_EL1,
  ICC_PMR_EL1,
} from "@irqlab/gic";
import { EventQueue, op, Tracer, type GuestOp, type InstantEvent, type GuestProgram, type GuestResult } from "@irqlab/sim";
import { describe, expect, test } from "vitest";
import { counterTicks, CNTPCT_EL0, CNTVCT_EL0, DEFAULT_COUNTER_HZ } from "../arch-counter.js";
import { Kvm } from "../kvm.js";
import { KVM_ARM_TARGET_GENERIC_V8, KVM_ARM_VCPU_TIMER_CTRL, KVM_DEV_TYPE_ARM_VGIC_V3 } from "../uapi/device-types.js";
import {
  KVM_DEV_ARM_VGIC_CTRL_INIT,
  KVM_DEV_ARM_VGIC_GRP_ADDR,
  KVM_DEV_ARM_VGIC_GRP_CTRL,
  KVM_VGIC_V3_ADDR_TYPE_DIST,
  KVM_VGIC_V3_ADDR_TYPE_REDIST,
} from "../vgic/vgic-uapi.js";
import { KVM_CAP_COUNTER_OFFSET } from "../uapi/capabilities.js";
import { KVM_EXIT_INTR, KVM_EXIT_MMIO } from "../uapi/exit-reasons.js";
import type { Vcpu } from "../vcpu.js";
import { armVm, DIST_BASE, REDIST_BASE } from "../vgic/test-fixture.js";
import {
  ARCH_TIMER_CTRL_ENABLE,
  ARCH_TIMER_CTRL_IT_MASK,
  ARCH_TIMER_CTRL_IT_STAT,
  CNTP_CTL_EL0,
  CNTP_CVAL_EL0,
  CNTV_CTL_EL0,
  CNTV_CVAL_EL0,
  CNTV_TVAL_EL0,
  KVM_ARM_DEV_EL1_PTIMER,
  KVM_ARM_DEV_EL1_VTIMER,
  KVM_ARM_VCPU_TIMER_IRQ_HPTIMER,
  KVM_ARM_VCPU_TIMER_IRQ_PTIMER,
  KVM_ARM_VCPU_TIMER_IRQ_VTIMER,
  isArchTimerReg,
} from "./timer-uapi.js";
import { errnoOf } from "../../test/errno-of.js";

/** GICv3 redistributor stride (RD_base + SGI_base frames). */
const GICR_STRIDE = 0x2_0000;
const NS_PER_TICK = 1e9 / DEFAULT_COUNTER_HZ; // 40 ns

/** GIC up, PPI `ppi` enabled on vCPU 0's redistributor, interrupts unmasked: then `body`. */
function* gicUp(ppi: number, pe = 0): GuestProgram {
  yield op.write(DIST_BASE + GICD_CTLR, 4, GICD_CTLR_ENABLE_SS_G1);
  yield op.write(REDIST_BASE + pe * GICR_STRIDE + GICR_SGI_BASE + GICR_ISENABLER0, 4, (1 << ppi) >>> 0);
  yield op.msr(ICC_PMR_EL1, 0xff);
  yield op.msr(ICC_IGRPEN1_EL1, 1);
  yield op.unmask();
}

/** MRS as a number. */
function* mrs(reg: number): Generator<GuestOp, number, GuestResult> {
  const r = yield op.mrs(reg);
  return r.hi * 2 ** 32 + r.value;
}

/** MSR of a 64-bit value below 2^53. */
function msr64(reg: number, v: number): GuestOp {
  return op.msr(reg, v >>> 0, Math.floor(v / 2 ** 32));
}

/** A vCPU whose vector acknowledges, masks the timer that fired (CTL = IMASK | ENABLE) and completes. */
function timerGuest(vcpu: Vcpu, main: () => GuestProgram, maskReg = CNTV_CTL_EL0): { acks: [number, number][] } {
  const log = { acks: [] as [number, number][] };
  const q = vcpu.vm.queue;
  vcpu.loadGuest({
    main,
    vector: function* () {
      const intid = (yield op.mrs(ICC_IAR1_EL1)).value & 0xffffff;
      log.acks.push([intid, q.now]);
      if (intid === 1023) return;
      yield op.msr(maskReg, ARCH_TIMER_CTRL_ENABLE | ARCH_TIMER_CTRL_IT_MASK);
      yield op.msr(ICC_EOIR1_EL1, intid);
    },
  });
  return log;
}

describe("arch timer registers", () => {
  test("isArchTimerReg: the six CNTP_/CNTV_ TVAL, CTL, CVAL registers and no counter", () => {
    for (const r of [CNTP_CTL_EL0, CNTP_CVAL_EL0, CNTV_CTL_EL0, CNTV_CVAL_EL0, CNTV_TVAL_EL0]) expect(isArchTimerReg(r)).toBe(true);
    for (const r of [CNTVCT_EL0, CNTPCT_EL0, CNTV_CTL_EL0 + (1 << 5) * 2, ICC_IAR1_EL1]) expect(isArchTimerReg(r)).toBe(false);
  });

  test("TVAL writes CVAL = counter + signed value; TVAL reads CVAL − counter (32 bits); ISTATUS only when enabled and met", () => {
    const { vcpus, kvm } = armVm();
    const seen: Record<string, number> = {};
    timerGuest(vcpus[0]!, function* () {
      // At counter 0 a negative TVAL wraps CVAL below zero: 2^64 − 5.
      yield op.msr(CNTV_TVAL_EL0, -5 >>> 0);
      seen.wrapHi = (yield op.mrs(CNTV_CVAL_EL0)).hi;
      yield op.compute(100_000);
      const now = yield* mrs(CNTVCT_EL0);
      yield op.msr(CNTV_TVAL_EL0, 1000);
      seen.cval = (yield* mrs(CNTV_CVAL_EL0)) - now;
      seen.tval = yield* mrs(CNTV_TVAL_EL0);
      seen.ctlDisabled = yield* mrs(CNTV_CTL_EL0);
      yield op.msr(CNTV_TVAL_EL0, -5 >>> 0);
      seen.cvalNeg = (yield* mrs(CNTV_CVAL_EL0)) - (yield* mrs(CNTVCT_EL0));
      seen.ctlDisabledMet = yield* mrs(CNTV_CTL_EL0);
      yield op.msr(CNTV_CTL_EL0, ARCH_TIMER_CTRL_ENABLE | ARCH_TIMER_CTRL_IT_MASK | ARCH_TIMER_CTRL_IT_STAT | 0xf0);
      seen.ctlMasked = yield* mrs(CNTV_CTL_EL0);
      seen.tvalExpired = (yield op.mrs(CNTV_TVAL_EL0)).value | 0;
      for (;;) yield op.wfi();
    });
    vcpus[0]!.run(0, { until: kvm.queue.now + 1_000_000 });
    // The MSR of TVAL lands one 14 ns no-trap access after the CNTVCT read: the same 40 ns tick or the next.
    expect(seen.cval).toBeGreaterThanOrEqual(1000);
    expect(seen.cval).toBeLessThanOrEqual(1001);
    // Read two accesses later: the counter may have ticked once since.
    expect(seen.tval).toBeGreaterThanOrEqual(seen.cval! - 1);
    expect(seen.tval).toBeLessThanOrEqual(seen.cval!);
    expect(seen.ctlDisabled).toBe(0);
    expect(seen.wrapHi).toBe(0xffff_ffff);
    expect(seen.cvalNeg).toBeLessThanOrEqual(-4);
    expect(seen.cvalNeg).toBeGreaterThanOrEqual(-6);
    expect(seen.ctlDisabledMet).toBe(0);
    // ISTATUS is read-only and the RES0 bits are dropped; enabled, masked and met reads ENABLE|IMASK|ISTATUS.
    expect(seen.ctlMasked).toBe(ARCH_TIMER_CTRL_ENABLE | ARCH_TIMER_CTRL_IT_MASK | ARCH_TIMER_CTRL_IT_STAT);
    expect(seen.tvalExpired).toBeLessThan(0);
  });
});

describe("cost of the timer registers", () => {
  test("CNTV_* and CNTP_* do not trap on the VHE host the costs come from: each access costs sysregNoTrap", () => {
    const { vcpus, vm } = armVm();
    const span = { start: 0, end: 0 };
    const q = vm.queue;
    vcpus[0]!.loadGuest({
      main: function* () {
        span.start = q.now;
        for (const reg of [CNTV_CTL_EL0, CNTV_CVAL_EL0, CNTV_TVAL_EL0, CNTP_CTL_EL0, CNTP_CVAL_EL0]) {
          yield op.mrs(reg);
          yield op.msr(reg, 0);
        }
        span.end = q.now;
        for (;;) yield op.wfi();
      },
    });
    vcpus[0]!.run(0, { until: q.now + 100_000 });
    expect(span.end - span.start).toBe(10 * vm.costs.sysregNoTrap);
    expect(vm.tracer.counters.toJSON()["kvm.exit.KVM_EXIT_MMIO"]).toBeUndefined();
  });
});

describe("vtimer and ptimer PPIs", () => {
  test("the vtimer raises PPI 27 at CVAL and wakes the vCPU from WFI; the handler's IMASK lowers the line", () => {
    const { vcpus, kvm, vm } = armVm();
    const deadline = { ticks: 0 };
    const pend = { after: -1, back: 0 };
    const log = timerGuest(vcpus[0]!, function* () {
      yield* gicUp(27);
      const now = yield* mrs(CNTVCT_EL0);
      deadline.ticks = now + 250; // 10 us at 25 MHz
      yield msr64(CNTV_CVAL_EL0, deadline.ticks);
      yield op.msr(CNTV_CTL_EL0, ARCH_TIMER_CTRL_ENABLE);
      yield op.wfi();
      pend.back = kvm.queue.now;
      pend.after = (yield op.read(REDIST_BASE + GICR_SGI_BASE + GICR_ISPENDR0, 4)).value;
      for (;;) yield op.wfi();
    });
    vcpus[0]!.run(0, { until: kvm.queue.now + 1_000_000 });
    expect(log.acks.map((a) => a[0])).toEqual([27]);
    const ackAt = log.acks[0]![1];
    const expiry = deadline.ticks * NS_PER_TICK; // the VM was created at time 0
    // Expiry, then the wake-up and the injection before the vector's first instruction.
    expect(ackAt).toBeGreaterThanOrEqual(expiry + vm.costs.wakeup + vm.costs.interruptInjection);
    expect(ackAt).toBeLessThan(expiry + 5_000);
    expect(pend.after & (1 << 27)).toBe(0);
    // The handler's IMASK write goes to the hardware: the line drops without a kick or a world switch,
    // so after the acknowledge the handler's two no-trap accesses (CTL, EOIR) are all it costs.
    expect(pend.back - ackAt).toBe(2 * vm.costs.sysregNoTrap);
    expect(kvm.tracer.counters.toJSON()["kvm.timer.vtimer_expired"]).toBe(1);
  });

  test("traced, the expiry's timer-level rise begins the flow the PPI's take ends (kvm_timer_update_irq)", () => {
    const { vcpus, kvm } = armVm({ trace: true });
    const log = timerGuest(vcpus[0]!, function* () {
      yield* gicUp(27);
      yield msr64(CNTV_CVAL_EL0, (yield* mrs(CNTVCT_EL0)) + 250);
      yield op.msr(CNTV_CTL_EL0, ARCH_TIMER_CTRL_ENABLE);
      for (;;) yield op.wfi();
    });
    vcpus[0]!.run(0, { until: kvm.queue.now + 1_000_000 });
    expect(log.acks.map((a) => a[0])).toEqual([27]);
    const events = kvm.tracer.events().filter((e): e is InstantEvent => e.phase === "instant");
    const rises = events.filter((e) => e.name === "timer-level" && e.flowOut !== undefined);
    expect(rises.map((e) => e.args)).toEqual([{ timer: "vtimer", intid: 27, level: 1 }]);
    expect(events.filter((e) => e.name === "irq-taken").map((e) => e.flowIn)).toEqual([rises[0]!.flowOut]);
    // The handler's IMASK lowers the line: an instant, no flow.
    expect(events.filter((e) => e.name === "timer-level" && e.flowOut === undefined).map((e) => e.args?.level)).toEqual([0]);
  });

  test("the ptimer compares against the physical counter and raises PPI 30", () => {
    const queue = new EventQueue();
    queue.runUntil(1_000_000); // the VM is created 1 ms after the host counter started
    const kvm = new Kvm({ queue, tracer: new Tracer(queue, { enabled: false }) });
    const rig = armVmOn(kvm);
    const seen = { phys: 0, virt: 0 };
    const log = timerGuest(rig, function* () {
      yield* gicUp(30);
      seen.phys = yield* mrs(CNTPCT_EL0);
      seen.virt = yield* mrs(CNTVCT_EL0);
      yield msr64(CNTP_CVAL_EL0, seen.phys + 100);
      yield op.msr(CNTP_CTL_EL0, ARCH_TIMER_CTRL_ENABLE);
      for (;;) yield op.wfi();
    }, CNTP_CTL_EL0);
    rig.run(0, { until: queue.now + 1_000_000 });
    expect(seen.phys - seen.virt).toBe(counterTicks(1_000_000, DEFAULT_COUNTER_HZ));
    expect(log.acks.map((a) => a[0])).toEqual([30]);
    expect(log.acks[0]![1]).toBeGreaterThanOrEqual((seen.phys + 100) * NS_PER_TICK);
  });

  test("a masked or disabled timer never interrupts and arms nothing; KVM_ARM_VCPU_INIT resets CTL to 0", () => {
    const { vcpus, kvm } = armVm();
    const v = vcpus[0]!;
    const ctl = { afterReset: -1 };
    let boots = 0;
    const log = timerGuest(v, function* () {
      boots++;
      if (boots === 2) {
        ctl.afterReset = yield* mrs(CNTV_CTL_EL0);
        for (;;) yield op.wfi();
      }
      yield* gicUp(27);
      yield op.msr(CNTV_TVAL_EL0, 10);
      yield op.msr(CNTV_CTL_EL0, ARCH_TIMER_CTRL_ENABLE | ARCH_TIMER_CTRL_IT_MASK);
      for (;;) yield op.wfi();
    });
    const e = v.run(0, { until: kvm.queue.now + 100_000 });
    expect(e.reason).toBe(KVM_EXIT_INTR);
    expect(log.acks).toEqual([]);
    expect(kvm.queue.pending).toBe(0);
    v.armVcpuInit({ target: KVM_ARM_TARGET_GENERIC_V8 });
    v.run(0, { until: kvm.queue.now + 10_000 });
    expect(ctl.afterReset).toBe(0);
  });
});

describe("KVM_ARM_VCPU_TIMER_CTRL", () => {
  const attr = (a: number, value?: unknown) => ({ group: KVM_ARM_VCPU_TIMER_CTRL, attr: a, value });

  test("defaults 27 and 30; a PPI set on one vCPU is the VM's; errnos as kvm_arm_timer_set_attr", () => {
    const { vcpus } = armVm({ vcpus: 2 });
    const [a, b] = vcpus as [Vcpu, Vcpu];
    expect(a.getDeviceAttr(attr(KVM_ARM_VCPU_TIMER_IRQ_VTIMER))).toBe(27);
    expect(a.getDeviceAttr(attr(KVM_ARM_VCPU_TIMER_IRQ_PTIMER))).toBe(30);
    expect(a.getDeviceAttr(attr(KVM_ARM_VCPU_TIMER_IRQ_HPTIMER))).toBe(26);
    a.setDeviceAttr(attr(KVM_ARM_VCPU_TIMER_IRQ_VTIMER, 20));
    expect(b.getDeviceAttr(attr(KVM_ARM_VCPU_TIMER_IRQ_VTIMER))).toBe(20);
    expect(errnoOf(() => a.hasDeviceAttr(attr(KVM_ARM_VCPU_TIMER_IRQ_PTIMER)))).toBeUndefined();
    expect(errnoOf(() => a.setDeviceAttr(attr(KVM_ARM_VCPU_TIMER_IRQ_VTIMER, 15)))).toBe("EINVAL");
    expect(errnoOf(() => a.setDeviceAttr(attr(KVM_ARM_VCPU_TIMER_IRQ_VTIMER, 32)))).toBe("EINVAL");
    expect(errnoOf(() => a.setDeviceAttr(attr(KVM_ARM_VCPU_TIMER_IRQ_VTIMER)))).toBe("EFAULT");
    expect(errnoOf(() => a.setDeviceAttr(attr(7, 20)))).toBe("ENXIO");
    expect(errnoOf(() => a.getDeviceAttr(attr(7)))).toBe("ENXIO");
    expect(errnoOf(() => a.hasDeviceAttr(attr(7)))).toBe("ENXIO");
  });

  test("the first KVM_RUN freezes the PPIs (EBUSY after); equal vtimer and ptimer PPIs fail KVM_RUN with EINVAL", () => {
    const same = armVm();
    same.vcpus[0]!.setDeviceAttr(attr(KVM_ARM_VCPU_TIMER_IRQ_PTIMER, 27));
    expect(errnoOf(() => same.vcpus[0]!.run(0, { until: 1000 }))).toBe("EINVAL");
    same.vcpus[0]!.setDeviceAttr(attr(KVM_ARM_VCPU_TIMER_IRQ_PTIMER, 30));
    expect(same.vcpus[0]!.run(0, { until: 1000 }).reason).toBe(KVM_EXIT_INTR);
    expect(errnoOf(() => same.vcpus[0]!.setDeviceAttr(attr(KVM_ARM_VCPU_TIMER_IRQ_VTIMER, 20)))).toBe("EBUSY");
  });

  test("a vtimer moved to PPI 20 interrupts with INTID 20", () => {
    const { vcpus, kvm } = armVm();
    vcpus[0]!.setDeviceAttr(attr(KVM_ARM_VCPU_TIMER_IRQ_VTIMER, 20));
    const log = timerGuest(vcpus[0]!, function* () {
      yield* gicUp(20);
      yield op.msr(CNTV_TVAL_EL0, 25);
      yield op.msr(CNTV_CTL_EL0, ARCH_TIMER_CTRL_ENABLE);
      for (;;) yield op.wfi();
    });
    vcpus[0]!.run(0, { until: kvm.queue.now + 100_000 });
    expect(log.acks.map((x) => x[0])).toEqual([20]);
  });

  test("without an in-kernel irqchip: EINVAL", () => {
    const kvm = new Kvm();
    const v = kvm.createVm().createVcpu(0);
    v.armVcpuInit({ target: KVM_ARM_TARGET_GENERIC_V8 });
    expect(errnoOf(() => v.setDeviceAttr(attr(KVM_ARM_VCPU_TIMER_IRQ_VTIMER, 20)))).toBe("EINVAL");
  });
});

describe("a running vCPU's own timer (micro-bench timer_10ms's path)", () => {
  test("the host's timer interrupt takes the vCPU out and the PPI is taken at re-entry for timerInterrupt alone; a spin ends there, a computation resumes for the rest", () => {
    for (const spin of [true, false]) {
      const { vcpus, kvm, vm } = armVm();
      const seen = { ticks: 0, start: 0, after: 0 };
      const log = timerGuest(vcpus[0]!, function* () {
        yield* gicUp(27);
        seen.ticks = (yield* mrs(CNTVCT_EL0)) + 250;
        yield msr64(CNTV_CVAL_EL0, seen.ticks);
        yield op.msr(CNTV_CTL_EL0, ARCH_TIMER_CTRL_ENABLE);
        seen.start = kvm.queue.now;
        yield spin ? op.spin(100_000) : op.compute(100_000);
        seen.after = kvm.queue.now;
        for (;;) yield op.wfi();
      });
      vcpus[0]!.run(0, { until: 1_000_000 });
      const c = vm.costs;
      expect(log.acks.map((a) => a[0])).toEqual([27]);
      // The expiry (the VM was created at time 0), the path, then the vector's IAR read.
      const ackAt = log.acks[0]![1];
      expect(ackAt).toBe(seen.ticks * NS_PER_TICK + c.timerInterrupt + c.sysregNoTrap);
      expect(c.timerInterrupt).toBeLessThan(c.worldSwitch + c.interruptInjection);
      // The handler's CTL and EOIR writes; then the spin is over, or the computation has its rest to run.
      const handled = ackAt + 2 * c.sysregNoTrap;
      expect(seen.after).toBe(spin ? handled : seen.start + 100_000 + (handled - seen.ticks * NS_PER_TICK));
    }
  });
});

describe("userspace irqchip: kvm_run.s.regs.device_irq_level", () => {
  test("an expiring vtimer gets a spinning vCPU out with KVM_EXIT_INTR and KVM_ARM_DEV_EL1_VTIMER set; with nothing changed the next run goes on", () => {
    const kvm = new Kvm();
    const vm = kvm.createVm();
    const v = vm.createVcpu(0);
    v.armVcpuInit({ target: KVM_ARM_TARGET_GENERIC_V8 });
    let expiredAt = 0;
    v.loadGuest({
      main: function* () {
        yield op.msr(CNTV_TVAL_EL0, 250);
        yield op.msr(CNTP_CTL_EL0, 0);
        yield op.msr(CNTV_CTL_EL0, ARCH_TIMER_CTRL_ENABLE);
        expiredAt = (yield* mrs(CNTVCT_EL0)) + 250;
        // Spin (no WFI): the timer's rise must get the vCPU out of the guest by itself.
        for (;;) yield op.compute(1000);
      },
    });
    const e = v.run(0, { until: 1_000_000 });
    expect(e.reason).toBe(KVM_EXIT_INTR);
    expect(e.reason === KVM_EXIT_INTR && e.cause).toBe("device-irq-level");
    expect(v.kvmRun.deviceIrqLevel).toBe(KVM_ARM_DEV_EL1_VTIMER);
    expect(kvm.queue.now).toBeGreaterThanOrEqual(expiredAt * NS_PER_TICK);
    // Nothing changed since: the next run goes on until its budget.
    const again = v.run(0, { until: kvm.queue.now + 10_000 });
    expect(again.reason === KVM_EXIT_INTR && again.cause).toBe("budget");
    expect(v.kvmRun.deviceIrqLevel & KVM_ARM_DEV_EL1_PTIMER).toBe(0);
  });
});

describe("userspace irqchip: WFI wake-up by the vCPU's own timer (4ce98bf0865c)", () => {
  const WOKE_ADDR = 0x1000;
  const BUDGET = 1_000_000;

  /** A vCPU without an in-kernel irqchip that arms its vtimer 250 ticks ahead and waits in WFI. */
  function wfiOnTimer(policy: "irq-lines" | "linux-7.0") {
    const kvm = new Kvm();
    const v = kvm.createVm(0, { runnablePolicy: policy }).createVcpu(0);
    v.armVcpuInit({ target: KVM_ARM_TARGET_GENERIC_V8 });
    const seen = { cval: 0, wfiAt: -1 };
    v.loadGuest({
      main: function* () {
        yield op.msr(CNTV_TVAL_EL0, 250);
        yield op.msr(CNTV_CTL_EL0, ARCH_TIMER_CTRL_ENABLE);
        seen.cval = (yield op.mrs(CNTV_CVAL_EL0)).value;
        seen.wfiAt = kvm.queue.now;
        yield op.wfi();
        yield op.write(WOKE_ADDR, 4, 1);
      },
    });
    return { kvm, v, seen };
  }

  test("mainline (irq-lines): the blocked vCPU wakes at the expiry and KVM_RUN returns KVM_EXIT_INTR with KVM_ARM_DEV_EL1_VTIMER in device_irq_level; the WFI is done", () => {
    const { kvm, v, seen } = wfiOnTimer("irq-lines");
    const e = v.run(0, { until: BUDGET });
    expect(e.reason === KVM_EXIT_INTR && e.cause).toBe("device-irq-level");
    expect(v.kvmRun.deviceIrqLevel).toBe(KVM_ARM_DEV_EL1_VTIMER);
    // The VM's counter started at 0: the expiry is CVAL × 40 ns; then the wake-up and the exit to the VMM.
    const expiry = seen.cval * NS_PER_TICK;
    expect(expiry).toBeGreaterThan(seen.wfiAt);
    expect(kvm.queue.now).toBe(expiry + v.vm.costs.wakeup + v.vm.costs.exitToUserspace);
    expect(kvm.tracer.counters.get("kvm.wake_ignored")).toBe(0);
    // Userspace has seen the level: the next KVM_RUN enters and the guest goes on after its WFI.
    const next = v.run(0, { until: BUDGET });
    expect(next.reason).toBe(KVM_EXIT_MMIO);
    expect(next.reason === KVM_EXIT_MMIO && next.physAddr).toBe(WOKE_ADDR);
  });

  test("linux-7.0: the expiry's wake-up is refused (irq_lines low, no vgic) and the vCPU sleeps until the budget", () => {
    const { kvm, v } = wfiOnTimer("linux-7.0");
    const e = v.run(0, { until: BUDGET });
    expect(e.reason === KVM_EXIT_INTR && e.cause).toBe("budget");
    expect(kvm.queue.now).toBe(BUDGET);
    expect(kvm.tracer.counters.get("kvm.wake_ignored")).toBe(1);
    // kvm_timer_update_run at the return still reports the level; the WFI is re-executed, not completed.
    expect(v.kvmRun.deviceIrqLevel).toBe(KVM_ARM_DEV_EL1_VTIMER);
    const next = v.run(0, { until: 2 * BUDGET });
    expect(next.reason === KVM_EXIT_INTR && next.cause).toBe("budget");
  });
});

/** An initialised vCPU with a vgic on an existing Kvm (for a VM created after time 0). */
function armVmOn(kvm: Kvm): Vcpu {
  const vm = kvm.createVm();
  const v = vm.createVcpu(0);
  v.armVcpuInit({ target: KVM_ARM_TARGET_GENERIC_V8 });
  const dev = vm.createDevice(KVM_DEV_TYPE_ARM_VGIC_V3);
  dev.setDeviceAttr({ group: KVM_DEV_ARM_VGIC_GRP_ADDR, attr: KVM_VGIC_V3_ADDR_TYPE_DIST, value: DIST_BASE });
  dev.setDeviceAttr({ group: KVM_DEV_ARM_VGIC_GRP_ADDR, attr: KVM_VGIC_V3_ADDR_TYPE_REDIST, value: REDIST_BASE });
  dev.setDeviceAttr({ group: KVM_DEV_ARM_VGIC_GRP_CTRL, attr: KVM_DEV_ARM_VGIC_CTRL_INIT });
  return v;
}

describe("KVM_ARM_SET_COUNTER_OFFSET", () => {

  test("KVM_CAP_COUNTER_OFFSET is 1 on arm64; reserved ≠ 0 or a value outside u64 is EINVAL; RISC-V has no such ioctl", () => {
    const { kvm, vm } = armVm();
    expect(kvm.checkExtension(KVM_CAP_COUNTER_OFFSET)).toBe(1);
    expect(vm.checkExtension(KVM_CAP_COUNTER_OFFSET)).toBe(1);
    expect(errnoOf(() => vm.armSetCounterOffset({ counterOffset: 5, reserved: 1 }))).toBe("EINVAL");
    expect(errnoOf(() => vm.armSetCounterOffset({ counterOffset: -1 }))).toBe("EINVAL");
    expect(errnoOf(() => vm.armSetCounterOffset({ counterOffset: 1n << 64n }))).toBe("EINVAL");
    const riscv = new Kvm({ arch: "riscv64" });
    expect(riscv.checkExtension(KVM_CAP_COUNTER_OFFSET)).toBe(0);
    expect(errnoOf(() => riscv.createVm().armSetCounterOffset({ counterOffset: 0 }))).toBe("ENOTTY");
  });

  test("both counters read the host count minus the offset, mod 2^64; CNTP_* and CNTPCT_EL0 then trap, CNTV_* do not", () => {
    const { vcpus, vm } = armVm();
    const q = vm.queue;
    q.runUntil(4_000); // host count 100
    vm.armSetCounterOffset({ counterOffset: 2n ** 64n - 2n ** 40n }); // counters = host + 2^40
    const seen: Record<string, bigint | number> = {};
    vcpus[0]!.loadGuest({
      main: function* () {
        let t = q.now;
        seen.virt = yield* mrs64(CNTVCT_EL0);
        seen.virtCost = q.now - t;
        t = q.now;
        seen.phys = yield* mrs64(CNTPCT_EL0);
        seen.physCost = q.now - t;
        t = q.now;
        yield op.mrs(CNTP_CTL_EL0);
        seen.ptimerCost = q.now - t;
        t = q.now;
        yield op.mrs(CNTV_CTL_EL0);
        seen.vtimerCost = q.now - t;
        for (;;) yield op.wfi();
      },
    });
    vcpus[0]!.run(0, { until: q.now + 10_000 });
    expect(seen.virt).toBe(2n ** 40n + 100n);
    expect(seen.phys).toBe(2n ** 40n + 100n); // one 14 ns access later: the same 40 ns tick
    expect([seen.virtCost, seen.physCost, seen.ptimerCost, seen.vtimerCost]).toEqual([vm.costs.sysregNoTrap, vm.costs.sysregTrap, vm.costs.sysregTrap, vm.costs.sysregNoTrap]);
  });

  test("near 2^63 a vtimer fires 250 ticks after TVAL = 250; just below 2^64 the same TVAL wraps CVAL past 0 and the condition holds at once (unsigned compare)", () => {
    const { vcpus, vm } = armVm();
    const q = vm.queue;
    vm.armSetCounterOffset({ counterOffset: 1n << 63n });
    const seen = { cnt: 0n, armedAt: 0, istatusNow: -1, cntWrap: 0n, cvalWrap: 0n };
    const log = timerGuest(vcpus[0]!, function* () {
      yield* gicUp(27);
      seen.cnt = yield* mrs64(CNTVCT_EL0);
      seen.armedAt = q.now;
      yield op.msr(CNTV_TVAL_EL0, 250);
      yield op.msr(CNTV_CTL_EL0, ARCH_TIMER_CTRL_ENABLE);
      yield op.wfi();
      // Now put the counter 100 ticks short of 2^64 (the VMM sets a new offset at the next exit).
      yield op.write(0x2000_0000, 4, 0);
      seen.cntWrap = yield* mrs64(CNTVCT_EL0);
      yield op.msr(CNTV_TVAL_EL0, 250);
      seen.cvalWrap = yield* mrs64(CNTV_CVAL_EL0);
      yield op.mask();
      yield op.msr(CNTV_CTL_EL0, ARCH_TIMER_CTRL_ENABLE);
      seen.istatusNow = (yield op.mrs(CNTV_CTL_EL0)).value & ARCH_TIMER_CTRL_IT_STAT;
      for (;;) yield op.wfi();
    });
    const e = vcpus[0]!.run(0, { until: q.now + 1_000_000 });
    expect(e.reason).toBe(KVM_EXIT_MMIO);
    expect(seen.cnt >= 1n << 63n).toBe(true);
    // Expiry 250 ticks (10 us) after the TVAL write, then the wake-up and the injection.
    expect(log.acks.map((a) => a[0])).toEqual([27]);
    const late = log.acks[0]![1] - seen.armedAt - 250 * NS_PER_TICK;
    expect(late).toBeGreaterThanOrEqual(vm.costs.wakeup + vm.costs.interruptInjection - NS_PER_TICK);
    expect(late).toBeLessThanOrEqual(vm.costs.wakeup + vm.costs.interruptInjection + vm.costs.worldSwitch + NS_PER_TICK);
    const host = BigInt(counterTicks(q.now, DEFAULT_COUNTER_HZ));
    vm.armSetCounterOffset({ counterOffset: host + 100n });
    vcpus[0]!.run(0, { until: q.now + 100_000 });
    expect(seen.cntWrap >= 2n ** 64n - 100n).toBe(true);
    expect(seen.cvalWrap).toBeLessThan(250n);
    expect(seen.istatusNow).toBe(ARCH_TIMER_CTRL_IT_STAT);
  });
});

/** MRS as a 64-bit bigint. */
function* mrs64(reg: number): Generator<GuestOp, bigint, GuestResult> {
  const r = yield op.mrs(reg);
  return (BigInt(r.hi) << 32n) | BigInt(r.value >>> 0);
}
