/**
 * Linux's KVM selftest tools/testing/selftests/kvm/arm64/arch_timer.c, with
 * the lib/arm64 helpers it uses (arch_timer.h timer_set_next_cval_ms,
 * timer_set_next_tval_ms, timer_get_cntct, timer_get_ctl/cval; delay.h
 * udelay; gic.h gic_irq_enable, gic_get_and_ack_irq, gic_set_eoi), rewritten
 * against irqlab's API. Defaults of timer_test.h: 4 vCPUs, 5 iterations per
 * stage, a 10 ms period, a 100 µs error margin.
 *
 * Each vCPU runs the four stages — virtual timer through CVAL, then TVAL,
 * physical timer through CVAL, then TVAL — arming the timer one period
 * ahead, enabling it, then waiting period + margin (udelay) and asserting
 * that its interrupt was handled exactly once meanwhile. The handler checks
 * that the INTID is the timer's PPI (read from vCPU 0 with
 * KVM_GET_DEVICE_ATTR, as test_init_timer_irq does), that the counter has
 * reached CVAL and that CTL.ISTATUS is set, then masks the timer.
 *
 * Upstream runs each vCPU on its own thread, and a third thread migrates
 * them between host CPUs every 2 ms. Here one loop hands the vCPUs 1 ms
 * quanta of the shared virtual clock in turn, as if their threads shared one
 * host CPU: a timer expires while its vCPU is descheduled as often as while
 * it runs or waits, and the interrupt is taken at its next entry — the cases
 * the migration thread is there to provoke. With `-o` upstream first sets
 * a VM-wide counter offset (KVM_ARM_SET_COUNTER_OFFSET, which needs
 * KVM_CAP_COUNTER_OFFSET); that run is here with the offset 2^63, which puts
 * both counters in the upper half of their range (and makes CNTP_* trap).
 *
 * GUEST_ASSERT and GUEST_DONE are 8-byte stores to the ucall page, which no
 * device claims (KVM_EXIT_MMIO), as ucall_arch_do_ucall does on arm64.
 */
import {
  GICD_CTLR,
  GICD_CTLR_ENABLE_SS_G1,
  GICR_ISENABLER0,
  GICR_SGI_BASE,
  ICC_EOIR1_EL1,
  ICC_IAR1_EL1,
  ICC_IGRPEN1_EL1,
  ICC_PMR_EL1,
} from "@irqlab/gic";
import { op, type GuestOp, type GuestResult } from "@irqlab/sim";
import { describe, expect, test } from "vitest";
import {
  ARCH_TIMER_CTRL_ENABLE,
  ARCH_TIMER_CTRL_IT_MASK,
  ARCH_TIMER_CTRL_IT_STAT,
  CNTFRQ_EL0,
  CNTPCT_EL0,
  CNTP_CTL_EL0,
  CNTP_CVAL_EL0,
  CNTP_TVAL_EL0,
  CNTVCT_EL0,
  CNTV_CTL_EL0,
  CNTV_CVAL_EL0,
  CNTV_TVAL_EL0,
  KVM_ARM_TARGET_GENERIC_V8,
  KVM_ARM_VCPU_TIMER_CTRL,
  KVM_ARM_VCPU_TIMER_IRQ_PTIMER,
  KVM_ARM_VCPU_TIMER_IRQ_VTIMER,
  KVM_DEV_ARM_VGIC_CTRL_INIT,
  KVM_DEV_ARM_VGIC_GRP_ADDR,
  KVM_DEV_ARM_VGIC_GRP_CTRL,
  KVM_DEV_TYPE_ARM_VGIC_V3,
  KVM_EXIT_INTR,
  KVM_EXIT_MMIO,
  KVM_VGIC_V3_ADDR_TYPE_DIST,
  KVM_VGIC_V3_ADDR_TYPE_REDIST,
  Kvm,
  type MmioExit,
  type Vcpu,
} from "../../src/index.js";
import { KVM_CAP_COUNTER_OFFSET } from "../../src/uapi/capabilities.js";

/** timer_test.h defaults. */
const NR_VCPUS = 4;
const NR_ITER = 5;
const TIMER_PERIOD_MS = 10;
const TIMER_ERR_MARGIN_US = 100;

/** lib/arm64/gic_v3 / vgic.c defaults of __vgic_v3_setup. */
const GICD_BASE_GPA = 0x0800_0000;
const GICR_BASE_GPA = 0x080a_0000;
const GICR_STRIDE = 0x2_0000;
const UCALL_ADDR = 0x2000_0000;
const UCALL_DONE = 0xd0e;
const UCALL_ABORT = 0xab0;
const IAR_SPURIOUS = 1023;
/** How much of the shared clock each vCPU gets in turn. */
const QUANTUM_NS = 1_000_000;

const VIRTUAL = 0;
const PHYSICAL = 1;

/** enum guest_stage. */
const STAGES = ["VTIMER_CVAL", "VTIMER_TVAL", "PTIMER_CVAL", "PTIMER_TVAL"] as const;
type Stage = (typeof STAGES)[number];

/** struct test_vcpu_shared_data (plus what a failed GUEST_ASSERT said). */
interface SharedData {
  stage: Stage;
  nrIter: number;
  xcnt: bigint;
  /** Counter − CVAL at each handled interrupt, in ticks. */
  readonly lateness: bigint[];
  failure: string | undefined;
}

const REGS = {
  [VIRTUAL]: { cnt: CNTVCT_EL0, ctl: CNTV_CTL_EL0, cval: CNTV_CVAL_EL0, tval: CNTV_TVAL_EL0 },
  [PHYSICAL]: { cnt: CNTPCT_EL0, ctl: CNTP_CTL_EL0, cval: CNTP_CVAL_EL0, tval: CNTP_TVAL_EL0 },
} as const;

type Guest<T> = Generator<GuestOp, T, GuestResult>;

function* read64(reg: number): Guest<bigint> {
  const r = yield op.mrs(reg);
  return (BigInt(r.hi) << 32n) | BigInt(r.value >>> 0);
}

/** timer_get_cntct. */
const timerGetCntct = (t: 0 | 1): Guest<bigint> => read64(REGS[t].cnt);

/** timer_set_next_cval_ms: CVAL = counter now + msec_to_cycles(ms). */
function* timerSetNextCvalMs(t: 0 | 1, ms: number, hz: number): Guest<void> {
  const next = BigInt.asUintN(64, (yield* timerGetCntct(t)) + BigInt((ms * hz) / 1000));
  yield op.msr(REGS[t].cval, Number(next & 0xffff_ffffn), Number(next >> 32n));
}

/** timer_set_next_tval_ms: TVAL = msec_to_cycles(ms). */
function* timerSetNextTvalMs(t: 0 | 1, ms: number, hz: number): Guest<void> {
  yield op.msr(REGS[t].tval, (ms * hz) / 1000);
}

/**
 * udelay(us): wait until CNTVCT_EL0 has advanced by usec_to_cycles(us). The
 * library spins on the counter; the wait is a computation the interrupt can
 * cut short, checked against the counter between 100 µs steps, which ends at
 * the same count with fewer operations.
 */
function* udelay(us: number, hz: number): Guest<void> {
  const cycles = Math.ceil((us * hz) / 1e6);
  const start = yield* read64(CNTVCT_EL0);
  for (;;) {
    const left = cycles - Number(BigInt.asUintN(64, (yield* read64(CNTVCT_EL0)) - start));
    if (left <= 0) return;
    yield op.compute(Math.min(100_000, Math.ceil((left * 1e9) / hz)));
  }
}

/** GUEST_ASSERT: record why and stop the guest with a ucall the host sees. */
function* guestAssert(ok: boolean, shared: SharedData, message: string): Guest<void> {
  if (ok) return;
  shared.failure ??= message;
  yield op.write(UCALL_ADDR, 8, UCALL_ABORT, 0);
}

/** The guest of one vCPU: guest_code, and guest_irq_handler as its vector. */
function guestImage(cpu: number, shared: SharedData, irqs: { vtimer: number; ptimer: number }) {
  let hz = 0;
  const accessorOf = (s: Stage): 0 | 1 => (s.startsWith("VTIMER") ? VIRTUAL : PHYSICAL);

  /** guest_configure_timer_action. */
  function* configure(): Guest<void> {
    const t = accessorOf(shared.stage);
    if (shared.stage.endsWith("CVAL")) yield* timerSetNextCvalMs(t, TIMER_PERIOD_MS, hz);
    else yield* timerSetNextTvalMs(t, TIMER_PERIOD_MS, hz);
    shared.xcnt = yield* timerGetCntct(t);
    yield op.msr(REGS[t].ctl, ARCH_TIMER_CTRL_ENABLE);
  }

  /** guest_validate_irq. */
  function* validate(intid: number): Guest<void> {
    if (intid === IAR_SPURIOUS) return;
    const t = accessorOf(shared.stage);
    const timerIrq = t === VIRTUAL ? irqs.vtimer : irqs.ptimer;
    const xctl = (yield op.mrs(REGS[t].ctl)).value;
    if ((xctl & ARCH_TIMER_CTRL_IT_MASK) !== 0 || (xctl & ARCH_TIMER_CTRL_ENABLE) === 0) return;
    yield op.msr(REGS[t].ctl, ARCH_TIMER_CTRL_IT_MASK);
    const xcnt = yield* timerGetCntct(t);
    const cval = yield* read64(REGS[t].cval);
    yield* guestAssert(intid === timerIrq, shared, `intid ${intid} != timer_irq ${timerIrq}`);
    yield* guestAssert(xcnt >= cval, shared, `xcnt = 0x${xcnt.toString(16)}, cval = 0x${cval.toString(16)}`);
    yield* guestAssert((xctl & ARCH_TIMER_CTRL_IT_STAT) !== 0, shared, `xctl = 0x${xctl.toString(16)}`);
    shared.lateness.push(xcnt - cval);
    shared.nrIter++;
  }

  /** guest_run_stage. */
  function* runStage(stage: Stage): Guest<void> {
    shared.stage = stage;
    shared.nrIter = 0;
    for (let config = 0; config < NR_ITER; config++) {
      yield* configure();
      yield* udelay(TIMER_PERIOD_MS * 1000 + TIMER_ERR_MARGIN_US, hz);
      const irqIter = shared.nrIter;
      yield* guestAssert(config + 1 === irqIter, shared, `config_iter + 1 = 0x${(config + 1).toString(16)}, irq_iter = 0x${irqIter.toString(16)}: the timer interrupt was not triggered within the interval`);
    }
  }

  return {
    main: function* (): Guest<void> {
      hz = (yield op.mrs(CNTFRQ_EL0)).value;
      // gic_init(GIC_V3, nr_vcpus): the distributor, this CPU's interface.
      yield op.write(GICD_BASE_GPA + GICD_CTLR, 4, GICD_CTLR_ENABLE_SS_G1);
      yield op.msr(ICC_PMR_EL1, 0xff);
      yield op.msr(ICC_IGRPEN1_EL1, 1);
      yield op.msr(CNTV_CTL_EL0, ARCH_TIMER_CTRL_IT_MASK);
      yield op.msr(CNTP_CTL_EL0, ARCH_TIMER_CTRL_IT_MASK);
      // gic_irq_enable(vtimer_irq), gic_irq_enable(ptimer_irq): this CPU's GICR_ISENABLER0.
      const isenabler = GICR_BASE_GPA + cpu * GICR_STRIDE + GICR_SGI_BASE + GICR_ISENABLER0;
      yield op.write(isenabler, 4, ((1 << irqs.vtimer) | (1 << irqs.ptimer)) >>> 0);
      yield op.unmask();
      for (const s of STAGES) yield* runStage(s);
      yield op.write(UCALL_ADDR, 8, UCALL_DONE, 0);
    },
    vector: function* (): Guest<void> {
      const intid = (yield op.mrs(ICC_IAR1_EL1)).value & 0xffffff;
      yield* validate(intid);
      yield op.msr(ICC_EOIR1_EL1, intid);
    },
  };
}

/** test_vm_create: a vgic-v3 VM with `n` vCPUs (and `-o`'s counter offset), and the timer PPIs read from vCPU 0. */
function testVmCreate(n: number, counterOffset?: bigint) {
  const kvm = new Kvm({ arch: "arm64" });
  const vm = kvm.createVm();
  const vcpus = Array.from({ length: n }, (_, i) => {
    const v = vm.createVcpu(i);
    v.armVcpuInit({ target: KVM_ARM_TARGET_GENERIC_V8 });
    return v;
  });
  if (counterOffset !== undefined) {
    // "if (kvm_has_cap(KVM_CAP_COUNTER_OFFSET)) ... else TEST_FAIL("no support for global offset")".
    expect(kvm.checkExtension(KVM_CAP_COUNTER_OFFSET)).toBe(1);
    vm.armSetCounterOffset({ counterOffset, reserved: 0 });
  }
  const gic = vm.createDevice(KVM_DEV_TYPE_ARM_VGIC_V3);
  gic.setDeviceAttr({ group: KVM_DEV_ARM_VGIC_GRP_ADDR, attr: KVM_VGIC_V3_ADDR_TYPE_DIST, value: GICD_BASE_GPA });
  gic.setDeviceAttr({ group: KVM_DEV_ARM_VGIC_GRP_ADDR, attr: KVM_VGIC_V3_ADDR_TYPE_REDIST, value: GICR_BASE_GPA });
  gic.setDeviceAttr({ group: KVM_DEV_ARM_VGIC_GRP_CTRL, attr: KVM_DEV_ARM_VGIC_CTRL_INIT });
  // test_init_timer_irq: "Timer initid should be same for all the vCPUs, so query only vCPU-0".
  const irqs = {
    ptimer: vcpus[0]!.getDeviceAttr({ group: KVM_ARM_VCPU_TIMER_CTRL, attr: KVM_ARM_VCPU_TIMER_IRQ_PTIMER }) as number,
    vtimer: vcpus[0]!.getDeviceAttr({ group: KVM_ARM_VCPU_TIMER_CTRL, attr: KVM_ARM_VCPU_TIMER_IRQ_VTIMER }) as number,
  };
  return { kvm, vm, vcpus, irqs };
}

/** test_vcpu_run for every vCPU, in 1 ms turns, until each reports GUEST_DONE (or an assert fails). */
function runAll(kvm: Kvm, vcpus: readonly Vcpu[], shared: readonly SharedData[]): void {
  const done = vcpus.map(() => false);
  const q = kvm.queue;
  for (let turn = 0; done.includes(false); turn++) {
    if (turn > 10_000) throw new Error("the vCPUs did not finish");
    vcpus.forEach((v, i) => {
      if (done[i]) return;
      const e = v.run(0, { until: q.now + QUANTUM_NS });
      if (e.reason === KVM_EXIT_INTR) return;
      expect(e.reason).toBe(KVM_EXIT_MMIO);
      const m = e as MmioExit;
      expect([m.isWrite, m.physAddr]).toEqual([true, UCALL_ADDR]);
      if (m.value === UCALL_ABORT) throw new Error(`vCPU ${i}: GUEST_ASSERT failed in stage ${shared[i]!.stage}: ${shared[i]!.failure}`);
      expect(m.value).toBe(UCALL_DONE);
      done[i] = true;
    });
  }
}

describe("arch_timer (tools/testing/selftests/kvm/arm64/arch_timer.c)", () => {
  test("main: 4 vCPUs, vtimer CVAL and TVAL, ptimer CVAL and TVAL, 5 interrupts each, every one within period + margin", () => {
    const { kvm, vcpus, irqs } = testVmCreate(NR_VCPUS);
    expect(irqs).toEqual({ vtimer: 27, ptimer: 30 });
    const shared: SharedData[] = vcpus.map(() => ({ stage: "VTIMER_CVAL", nrIter: 0, xcnt: 0n, lateness: [], failure: undefined }));
    vcpus.forEach((v, i) => v.loadGuest(guestImage(i, shared[i]!, irqs)));
    runAll(kvm, vcpus, shared);
    for (const s of shared) {
      expect(s.failure).toBeUndefined();
      expect(s.stage).toBe("PTIMER_TVAL");
      expect(s.nrIter).toBe(NR_ITER);
      expect(s.lateness).toHaveLength(STAGES.length * NR_ITER);
    }
    const counters = kvm.tracer.counters.toJSON();
    expect(counters["kvm.timer.vtimer_expired"]).toBe(NR_VCPUS * 2 * NR_ITER);
    expect(counters["kvm.timer.ptimer_expired"]).toBe(NR_VCPUS * 2 * NR_ITER);
  });

  test("main -o 0x8000000000000000: the same with a VM-wide counter offset, counters near 2^63", () => {
    const offset = 1n << 63n;
    const { kvm, vcpus, irqs } = testVmCreate(NR_VCPUS, offset);
    const shared: SharedData[] = vcpus.map(() => ({ stage: "VTIMER_CVAL", nrIter: 0, xcnt: 0n, lateness: [], failure: undefined }));
    vcpus.forEach((v, i) => v.loadGuest(guestImage(i, shared[i]!, irqs)));
    runAll(kvm, vcpus, shared);
    for (const s of shared) {
      expect([s.failure, s.stage, s.nrIter]).toEqual([undefined, "PTIMER_TVAL", NR_ITER]);
      // The last xcnt was read from the physical counter: the host's count minus 2^63, mod 2^64.
      expect(s.xcnt >= 1n << 63n).toBe(true);
    }
  });

  test("main with the timer PPIs moved (KVM_ARM_VCPU_TIMER_IRQ_VTIMER = 20, _PTIMER = 21): the handler sees the new INTIDs", () => {
    const { kvm, vcpus } = testVmCreate(2);
    vcpus[1]!.setDeviceAttr({ group: KVM_ARM_VCPU_TIMER_CTRL, attr: KVM_ARM_VCPU_TIMER_IRQ_VTIMER, value: 20 });
    vcpus[1]!.setDeviceAttr({ group: KVM_ARM_VCPU_TIMER_CTRL, attr: KVM_ARM_VCPU_TIMER_IRQ_PTIMER, value: 21 });
    const irqs = {
      vtimer: vcpus[0]!.getDeviceAttr({ group: KVM_ARM_VCPU_TIMER_CTRL, attr: KVM_ARM_VCPU_TIMER_IRQ_VTIMER }) as number,
      ptimer: vcpus[0]!.getDeviceAttr({ group: KVM_ARM_VCPU_TIMER_CTRL, attr: KVM_ARM_VCPU_TIMER_IRQ_PTIMER }) as number,
    };
    expect(irqs).toEqual({ vtimer: 20, ptimer: 21 });
    const shared: SharedData[] = vcpus.map(() => ({ stage: "VTIMER_CVAL", nrIter: 0, xcnt: 0n, lateness: [], failure: undefined }));
    vcpus.forEach((v, i) => v.loadGuest(guestImage(i, shared[i]!, irqs)));
    runAll(kvm, vcpus, shared);
    for (const s of shared) expect([s.failure, s.nrIter]).toEqual([undefined, NR_ITER]);
  });
});
