/**
 * Linux's KVM selftest tools/testing/selftests/kvm/arm64/arch_timer_edge_cases.c,
 * rewritten against irqlab's API: the edge cases of one vCPU's virtual or
 * physical timer — TVAL/CVAL arithmetic, timers in the past, beyond TVAL's
 * range, reprogrammed before they fire, fired again and again, and masked
 * with CTL.IMASK — each waited for in WFI (wait_for_non_spurious_irq) and by
 * polling (wait_poll_for_irq), with the guest's IRQ handler checking that
 * ISTATUS agrees with the timer condition.
 *
 * Left out: every case that moves the counter (set_counter →
 * KVM_SET_ONE_REG of KVM_REG_ARM_TIMER_CNT / _PTIMER_CNT:
 * test_move_counters_ahead_of_timers, _behind_timers,
 * test_set_cnt_after_tval_max), since the model has no ONE_REG; the cases
 * upstream starts from DEF_CNT (2^63 − 1) start from wherever the counter is.
 * The sleep and wait methods that go to userspace (usleep, sched_yield,
 * migration) are the polling ones here: the model's vCPU has no thread to
 * move. Polls step 10 µs at a time (a `compute` the interrupt cuts short)
 * rather than one cpu_relax() per turn.
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
  KVM_EXIT_MMIO,
  KVM_VGIC_V3_ADDR_TYPE_DIST,
  KVM_VGIC_V3_ADDR_TYPE_REDIST,
  Kvm,
  type MmioExit,
} from "../../src/index.js";

const CVAL_MAX = 2n ** 64n - 1n;
const TVAL_MAX = 2 ** 31 - 1;
const TVAL_MIN = -(2 ** 31);
const TIMEOUT_NO_IRQ_US = 50_000;
const NR_TEST_ITERS = 5;
const WAIT_TEST_MS = 10;
const LONG_WAIT_TEST_MS = 100;
const POLL_STEP_NS = 10_000;

const GICD_BASE_GPA = 0x0800_0000;
const GICR_BASE_GPA = 0x080a_0000;
const UCALL_ADDR = 0x2000_0000;
const UCALL_DONE = 0xd0e;
const UCALL_ABORT = 0xab0;
const IAR_SPURIOUS = 1023;

const VIRTUAL = 0;
const PHYSICAL = 1;
type Timer = typeof VIRTUAL | typeof PHYSICAL;
const REGS = [
  { cnt: CNTVCT_EL0, ctl: CNTV_CTL_EL0, cval: CNTV_CVAL_EL0, tval: CNTV_TVAL_EL0 },
  { cnt: CNTPCT_EL0, ctl: CNTP_CTL_EL0, cval: CNTP_CVAL_EL0, tval: CNTP_TVAL_EL0 },
] as const;

type G<T = void> = Generator<GuestOp, T, GuestResult>;

/** Everything the guest shares with its handler, and why it failed. */
interface Shared {
  handled: number;
  spurious: number;
  failure: string | undefined;
}

function* get64(reg: number): G<bigint> {
  const r = yield op.mrs(reg);
  return (BigInt(r.hi) << 32n) | BigInt(r.value >>> 0);
}
const set64 = (reg: number, v: bigint): GuestOp => {
  const u = BigInt.asUintN(64, v);
  return op.msr(reg, Number(u & 0xffff_ffffn), Number(u >> 32n));
};

/** The guest of one run, on timer `timer`, with the PPIs read from the vCPU. */
function edgeCasesGuest(timer: Timer, irqs: { vtimer: number; ptimer: number }, s: Shared) {
  let hz = 0n;
  const msToCycles = (ms: number): bigint => (BigInt(ms) * hz) / 1000n;
  const usToCycles = (us: number): bigint => (BigInt(us) * hz) / 1_000_000n;
  const getCnt = (t: Timer): G<bigint> => get64(REGS[t].cnt);
  const getCval = (t: Timer): G<bigint> => get64(REGS[t].cval);
  function* getTval(t: Timer): G<number> {
    return (yield op.mrs(REGS[t].tval)).value | 0;
  }
  const setCtl = (t: Timer, ctl: number): GuestOp => op.msr(REGS[t].ctl, ctl);
  const setCval = (t: Timer, v: bigint): GuestOp => set64(REGS[t].cval, v);
  const setTval = (t: Timer, v: number | bigint): GuestOp => op.msr(REGS[t].tval, Number(BigInt.asUintN(32, BigInt(v))));

  function* guestAssert(ok: boolean, message: string): G {
    if (ok) return;
    s.failure ??= message;
    yield op.write(UCALL_ADDR, 8, UCALL_ABORT, 0);
  }
  const assertIrqsHandled = (n: number): G => guestAssert(s.handled === n, `Handled ${s.handled} IRQS but expected ${n}`);

  /** wait_for_non_spurious_irq: WFI with interrupts masked, then a window to take it. */
  function* waitForNonSpuriousIrq(): G {
    yield op.mask();
    for (const h = s.handled; h === s.handled; ) {
      yield op.wfi();
      yield op.unmask();
      yield op.mask();
    }
  }
  /** wait_poll_for_irq: poll `handled` with interrupts unmasked. */
  function* waitPollForIrq(): G {
    yield op.mask();
    const h = s.handled;
    yield op.unmask();
    while (h === s.handled) yield op.compute(POLL_STEP_NS);
    yield op.mask();
  }
  const irqWaitMethods = [waitForNonSpuriousIrq, waitPollForIrq];

  /** sleep_poll: wait `us` on the other timer's counter. */
  function* sleepPoll(t: Timer, us: number): G {
    const other = (1 - t) as Timer;
    const cycles = usToCycles(us);
    const start = yield* getCnt(other);
    while ((yield* getCnt(other)) - start < cycles) yield op.compute(POLL_STEP_NS);
  }

  /** reset_timer_state without set_counter: masked and disabled. */
  const resetTimerState = (t: Timer): GuestOp => setCtl(t, ARCH_TIMER_CTRL_IT_MASK);

  function* setXvalIrq(t: Timer, xval: bigint, ctl: number, cval: boolean): G {
    s.handled = 0;
    s.spurious = 0;
    if (cval) {
      yield setCval(t, xval);
      yield setCtl(t, ctl);
    } else {
      yield setCtl(t, ctl);
      yield setTval(t, xval);
    }
  }

  function* testTimerXval(t: Timer, xval: bigint, cval: boolean, wm: () => G): G {
    yield op.mask();
    yield resetTimerState(t);
    yield* setXvalIrq(t, xval, ARCH_TIMER_CTRL_ENABLE, cval);
    yield* wm();
    yield* assertIrqsHandled(1);
    yield op.unmask();
  }

  function* testXvalCheckNoIrq(t: Timer, xval: bigint, us: number, cval: boolean): G {
    yield op.mask();
    yield* setXvalIrq(t, xval, ARCH_TIMER_CTRL_ENABLE | ARCH_TIMER_CTRL_IT_MASK, cval);
    yield* sleepPoll(t, us);
    yield op.unmask();
    yield* assertIrqsHandled(0);
  }

  function* testBasicFunctionality(t: Timer): G {
    const tval = msToCycles(WAIT_TEST_MS);
    for (const wm of irqWaitMethods) {
      yield* testTimerXval(t, (yield* getCnt(t)) + tval, true, wm);
      yield* testTimerXval(t, tval, false, wm);
    }
  }

  function* timersSanityChecks(t: Timer): G {
    const wait = msToCycles(WAIT_TEST_MS);
    yield resetTimerState(t);
    yield op.mask();
    // cval in the past
    yield setCval(t, (yield* getCnt(t)) - wait);
    yield* guestAssert((yield* getTval(t)) < 0, "tval of a cval in the past is not negative");
    // tval in the past
    yield setTval(t, -1);
    yield* guestAssert((yield* getCval(t)) < (yield* getCnt(t)), "cval of tval -1 is not in the past");
    // tval larger than TVAL_MAX: programmed through cval
    yield setCval(t, (yield* getCnt(t)) + BigInt(TVAL_MAX) + wait);
    yield* guestAssert((yield* getTval(t)) <= 0, "tval beyond TVAL_MAX is not <= 0");
    // tval larger than 2 * TVAL_MAX: loops around completely
    yield setCval(t, (yield* getCnt(t)) + 2n * BigInt(TVAL_MAX) + wait);
    yield* guestAssert(BigInt(yield* getTval(t)) <= wait, "tval beyond 2 * TVAL_MAX is not <= wait");
    // tval keeps down-counting from 0 to -1
    yield setTval(t, 0);
    yield* sleepPoll(t, 1);
    yield* guestAssert((yield* getTval(t)) < 0, "tval did not count down below 0");
    yield op.unmask();
    yield setCtl(t, ARCH_TIMER_CTRL_IT_MASK);
  }

  /** The first of timers_sanity_checks' rollover cases, run while the counter is still below wait_ms. */
  function* negativeTvalRollsOverFromZero(t: Timer): G {
    const wait = msToCycles(WAIT_TEST_MS);
    yield* guestAssert((yield* getCnt(t)) < wait, "the counter is already past wait_ms");
    yield setTval(t, -wait);
    yield* guestAssert((yield* getCval(t)) >= CVAL_MAX - wait, "a negative tval from near 0 does not wrap cval");
    yield setCtl(t, ARCH_TIMER_CTRL_IT_MASK);
  }

  function* testTimersAboveTvalMax(t: Timer): G {
    yield resetTimerState(t);
    const cval = (yield* getCnt(t)) + BigInt(TVAL_MAX) + msToCycles(WAIT_TEST_MS);
    yield* testXvalCheckNoIrq(t, cval, WAIT_TEST_MS * 1000 + TIMEOUT_NO_IRQ_US, true);
  }

  function* testTimersInThePast(t: Timer): G {
    const tval = -msToCycles(WAIT_TEST_MS);
    for (const wm of irqWaitMethods) {
      yield* testTimerXval(t, (yield* getCnt(t)) - msToCycles(WAIT_TEST_MS), true, wm);
      yield* testTimerXval(t, tval, false, wm);
      yield* testTimerXval(t, 0n, true, wm); // counter = 0, in the past
      yield* testTimerXval(t, 0n, false, wm); // tval = 0: now
      // TVAL_MIN, "as far in the past as possible", is in the past only once the counter is past
      // 2^31 (upstream starts from DEF_CNT); before that CVAL wraps to the far future.
      if ((yield* getCnt(t)) >= -BigInt(TVAL_MIN)) yield* testTimerXval(t, BigInt(TVAL_MIN), false, wm);
    }
  }

  function* testReprogrammingTimer(t: Timer, wm: () => G, d1: number, d2: number): G {
    yield op.mask();
    yield resetTimerState(t);
    const start = yield* getCnt(t);
    yield* setXvalIrq(t, msToCycles(d1), ARCH_TIMER_CTRL_ENABLE, false);
    yield setTval(t, msToCycles(d2));
    yield* wm();
    yield* guestAssert((yield* getCnt(t)) >= start + msToCycles(d2), "the IRQ came before the reprogrammed time");
    yield op.unmask();
    yield* assertIrqsHandled(1);
  }

  function* testReprogramTimers(t: Timer): G {
    for (const wm of irqWaitMethods) {
      yield* testReprogrammingTimer(t, wm, 2 * WAIT_TEST_MS, WAIT_TEST_MS);
      yield* testReprogrammingTimer(t, wm, WAIT_TEST_MS, 2 * WAIT_TEST_MS);
    }
  }

  function* testTimersFiredMultipleTimes(t: Timer): G {
    for (const wm of irqWaitMethods) {
      yield op.mask();
      yield resetTimerState(t);
      yield* setXvalIrq(t, 0n, ARCH_TIMER_CTRL_ENABLE, false);
      for (let i = 1; i <= 10; i++) {
        yield* wm();
        yield setCtl(t, ARCH_TIMER_CTRL_ENABLE); // the handler masked and disabled it
        yield* assertIrqsHandled(i);
      }
      yield op.unmask();
    }
  }

  function* testTimerControlMaskThenUnmask(t: Timer): G {
    yield resetTimerState(t);
    yield* setXvalIrq(t, -1n, ARCH_TIMER_CTRL_ENABLE | ARCH_TIMER_CTRL_IT_MASK, false);
    yield op.mask();
    yield setCtl(t, ARCH_TIMER_CTRL_ENABLE);
    yield* waitForNonSpuriousIrq();
    yield* assertIrqsHandled(1);
    yield op.unmask();
  }

  function* testTimerControlMasks(t: Timer): G {
    yield resetTimerState(t);
    yield* setXvalIrq(t, -1n, ARCH_TIMER_CTRL_ENABLE | ARCH_TIMER_CTRL_IT_MASK, false);
    yield* sleepPoll(t, TIMEOUT_NO_IRQ_US);
    yield* assertIrqsHandled(0);
    yield setCtl(t, ARCH_TIMER_CTRL_IT_MASK);
  }

  function* testLongTimerDelays(t: Timer): G {
    const tval = msToCycles(LONG_WAIT_TEST_MS);
    for (const wm of irqWaitMethods) {
      yield* testTimerXval(t, (yield* getCnt(t)) + tval, true, wm);
      yield* testTimerXval(t, tval, false, wm);
    }
  }

  return {
    main: function* (): G {
      hz = BigInt((yield op.mrs(CNTFRQ_EL0)).value);
      yield op.mask();
      yield op.write(GICD_BASE_GPA + GICD_CTLR, 4, GICD_CTLR_ENABLE_SS_G1);
      yield op.msr(ICC_PMR_EL1, 0xff);
      yield op.msr(ICC_IGRPEN1_EL1, 1);
      yield setCtl(VIRTUAL, ARCH_TIMER_CTRL_IT_MASK);
      yield setCtl(PHYSICAL, ARCH_TIMER_CTRL_IT_MASK);
      yield op.write(GICR_BASE_GPA + GICR_SGI_BASE + GICR_ISENABLER0, 4, ((1 << irqs.vtimer) | (1 << irqs.ptimer)) >>> 0);
      yield op.unmask();
      yield* negativeTvalRollsOverFromZero(timer);
      for (let i = 0; i < NR_TEST_ITERS; i++) {
        // guest_run_iteration, without the cases that set the counter.
        yield* testBasicFunctionality(timer);
        yield* timersSanityChecks(timer);
        yield* testTimersAboveTvalMax(timer);
        yield* testTimersInThePast(timer);
        yield* testReprogramTimers(timer);
        yield* testTimersFiredMultipleTimes(timer);
        yield* testTimerControlMaskThenUnmask(timer);
        yield* testTimerControlMasks(timer);
      }
      yield* testLongTimerDelays(timer);
      yield op.write(UCALL_ADDR, 8, UCALL_DONE, 0);
    },
    /** guest_irq_handler. */
    vector: function* (): G {
      const intid = (yield op.mrs(ICC_IAR1_EL1)).value & 0xffffff;
      if (intid === IAR_SPURIOUS) {
        s.spurious++;
        return;
      }
      const t: Timer | undefined = intid === irqs.ptimer ? PHYSICAL : intid === irqs.vtimer ? VIRTUAL : undefined;
      if (t !== undefined) {
        const ctl = (yield op.mrs(REGS[t].ctl)).value;
        const cval = yield* getCval(t);
        const cnt = yield* getCnt(t);
        const condition = cnt >= cval;
        const istatus = (ctl & ARCH_TIMER_CTRL_IT_STAT) !== 0 && (ctl & ARCH_TIMER_CTRL_ENABLE) !== 0;
        yield* guestAssert(condition === istatus, `timer_condition ${condition} != istatus ${istatus}`);
        yield setCtl(t, ARCH_TIMER_CTRL_IT_MASK);
        s.handled++;
      }
      yield op.msr(ICC_EOIR1_EL1, intid);
    },
  };
}

/** test_vm_create + test_run: one vCPU with a vgic-v3 (vgic_v3_setup(vm, 1, 64)), run to GUEST_DONE. */
function testRun(timer: Timer): { shared: Shared; now: number } {
  const kvm = new Kvm({ arch: "arm64" });
  const vm = kvm.createVm();
  const vcpu = vm.createVcpu(0);
  vcpu.armVcpuInit({ target: KVM_ARM_TARGET_GENERIC_V8 });
  const irqs = {
    ptimer: vcpu.getDeviceAttr({ group: KVM_ARM_VCPU_TIMER_CTRL, attr: KVM_ARM_VCPU_TIMER_IRQ_PTIMER }) as number,
    vtimer: vcpu.getDeviceAttr({ group: KVM_ARM_VCPU_TIMER_CTRL, attr: KVM_ARM_VCPU_TIMER_IRQ_VTIMER }) as number,
  };
  const gic = vm.createDevice(KVM_DEV_TYPE_ARM_VGIC_V3);
  gic.setDeviceAttr({ group: KVM_DEV_ARM_VGIC_GRP_ADDR, attr: KVM_VGIC_V3_ADDR_TYPE_DIST, value: GICD_BASE_GPA });
  gic.setDeviceAttr({ group: KVM_DEV_ARM_VGIC_GRP_ADDR, attr: KVM_VGIC_V3_ADDR_TYPE_REDIST, value: GICR_BASE_GPA });
  gic.setDeviceAttr({ group: KVM_DEV_ARM_VGIC_GRP_CTRL, attr: KVM_DEV_ARM_VGIC_CTRL_INIT });
  const shared: Shared = { handled: 0, spurious: 0, failure: undefined };
  vcpu.loadGuest(edgeCasesGuest(timer, irqs, shared));
  const e = vcpu.run(0, { until: 60_000_000_000 });
  expect(e.reason).toBe(KVM_EXIT_MMIO);
  const m = e as MmioExit;
  expect([m.isWrite, m.physAddr]).toEqual([true, UCALL_ADDR]);
  if (m.value === UCALL_ABORT) throw new Error(`GUEST_ASSERT failed: ${shared.failure}`);
  expect(m.value).toBe(UCALL_DONE);
  return { shared, now: kvm.queue.now };
}

describe("arch_timer_edge_cases (tools/testing/selftests/kvm/arm64/arch_timer_edge_cases.c)", () => {
  test.each([
    ["VIRTUAL", VIRTUAL],
    ["PHYSICAL", PHYSICAL],
  ] as const)("guest_code(%s): every case without set_counter, 5 iterations then the long delays, no spurious interrupt", (_name, timer) => {
    const { shared, now } = testRun(timer);
    expect(shared.failure).toBeUndefined();
    expect(shared.spurious).toBe(0);
    // The waits add up: 5 iterations of about 0.3 s of timer waits, then 4 × 100 ms.
    expect(now).toBeGreaterThan(NR_TEST_ITERS * 0.2e9 + 0.4e9);
  }, 30_000);
});
