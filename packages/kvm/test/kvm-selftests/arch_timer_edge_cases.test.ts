/**
 * Linux's KVM selftest tools/testing/selftests/kvm/arm64/arch_timer_edge_cases.c,
 * rewritten against irqlab's API: the edge cases of one vCPU's virtual or
 * physical timer — TVAL/CVAL arithmetic, timers in the past, beyond TVAL's
 * range, counters moved ahead of and behind armed timers, reprogrammed
 * timers, timers fired again and again, and masked with CTL.IMASK — each
 * waited for in WFI or by polling, with the guest's IRQ handler checking
 * that ISTATUS agrees with the timer condition.
 *
 * set_counter is a GUEST_SYNC that the host answers with KVM_SET_ONE_REG of
 * KVM_REG_ARM_TIMER_CNT or KVM_REG_ARM_PTIMER_CNT (kvm_set_cntxct), as
 * upstream does; most cases start from DEF_CNT (2^63 − 1). Upstream relies
 * on the counter moving on between that write and the guest's next timer
 * access (test_set_cnt_after_tval with cnt_1 0 and tval −1 needs CVAL =
 * counter − 1 to land in the past, not at 2^64 − 1), as it does on Linux,
 * where KVM_RUN's way back into the guest takes time. The model charges an
 * exit's whole round trip before the VMM acts, so the host lets half of it
 * (REENTRY_NS) pass after the write.
 *
 * The userspace commands: USERSPACE_USLEEP lets virtual time pass on the
 * host with the vCPU out of KVM_RUN (usleep); USERSPACE_SCHED_YIELD is the
 * round trip alone (the model's host has no other thread to yield to);
 * USERSPACE_MIGRATE_SELF moves the vCPU thread to the next host CPU with
 * Vcpu.setThreadAffinity (migrate_self(next_pcpu())). The guest's
 * cpu_relax() polls are 10 µs `compute` steps that an interrupt cuts short.
 * GUEST_SYNC(i) at the start of each iteration carries the stage where
 * handle_sync reads its command (args[1]) and stale ucall arguments where it
 * reads the value; the port makes it a sync the host does nothing for.
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
  KVM_REG_ARM_PTIMER_CNT,
  KVM_REG_ARM_TIMER_CNT,
  Kvm,
  type Vcpu,
} from "../../src/index.js";

const CVAL_MAX = 2n ** 64n - 1n;
const TVAL_MAX = 2 ** 31 - 1;
const TVAL_MIN = -(2 ** 31);
const TIMEOUT_NO_IRQ_US = 50_000;
/** A counter value far from both edges: CVAL_MAX / 2. */
const DEF_CNT = CVAL_MAX / 2n;
const NR_TEST_ITERS = 5;
const WAIT_TEST_MS = 10;
const LONG_WAIT_TEST_MS = 100;
const POLL_STEP_NS = 10_000;
/** Half of the exit round trip (DEFAULT_COSTS.exitToUserspace, 1683 ns): KVM_RUN's way back into the guest. */
const REENTRY_NS = 842;

const GICD_BASE_GPA = 0x0800_0000;
const GICR_BASE_GPA = 0x080a_0000;
const UCALL_ADDR = 0x2000_0000;
const UCALL_SYNC = 0x5c;
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

/** enum sync_cmd. */
const SET_COUNTER_VALUE = 0;
const USERSPACE_USLEEP = 1;
const USERSPACE_SCHED_YIELD = 2;
const USERSPACE_MIGRATE_SELF = 3;
const NO_USERSPACE_CMD = 4;
type SyncCmd = 0 | 1 | 2 | 3 | 4;

type G<T = void> = Generator<GuestOp, T, GuestResult>;

/** Everything the guest shares with its handler and the host, and why it failed. */
interface Shared {
  handled: number;
  spurious: number;
  failure: string | undefined;
  /** The case running, for failure messages (upstream's GUEST_ASSERT names the line). */
  where: string;
  /** The arguments of the last GUEST_SYNC_ARGS: command, value, timer. */
  sync: { cmd: SyncCmd; val: bigint; timer: Timer };
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

  function* guestSyncArgs(cmd: SyncCmd, val: bigint, t: Timer): G {
    s.sync = { cmd, val, timer: t };
    yield op.write(UCALL_ADDR, 8, UCALL_SYNC, 0);
  }
  const userspaceCmd = (cmd: SyncCmd): G => guestSyncArgs(cmd, 0n, VIRTUAL);
  const userspaceMigrateVcpu = (): G => userspaceCmd(USERSPACE_MIGRATE_SELF);
  const userspaceSleep = (us: number): G => guestSyncArgs(USERSPACE_USLEEP, BigInt(us), VIRTUAL);
  const setCounter = (t: Timer, counter: bigint): G => guestSyncArgs(SET_COUNTER_VALUE, counter, t);

  function* guestAssert(ok: boolean, message: string): G {
    if (ok) return;
    s.failure ??= `${s.where}: ${message}`;
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
  /** poll_for_non_spurious_irq: poll `handled` with interrupts unmasked, in the guest or through userspace. */
  function* pollForNonSpuriousIrq(cmd: SyncCmd): G {
    yield op.mask();
    const h = s.handled;
    yield op.unmask();
    while (h === s.handled) {
      if (cmd === NO_USERSPACE_CMD) yield op.compute(POLL_STEP_NS);
      else yield* userspaceCmd(cmd);
    }
    yield op.mask();
  }
  const irqWaitMethods: (() => G)[] = [
    waitForNonSpuriousIrq,
    () => pollForNonSpuriousIrq(NO_USERSPACE_CMD), // wait_poll_for_irq
    () => pollForNonSpuriousIrq(USERSPACE_SCHED_YIELD), // wait_sched_poll_for_irq
    () => pollForNonSpuriousIrq(USERSPACE_MIGRATE_SELF), // wait_migrate_poll_for_irq
  ];

  /** guest_poll: sleep `us` on the other timer's counter, in the guest or through userspace. */
  function* guestPoll(t: Timer, us: number, cmd: SyncCmd): G {
    const other = (1 - t) as Timer;
    const cycles = usToCycles(us);
    const start = yield* getCnt(other);
    while ((yield* getCnt(other)) - start < cycles) {
      if (cmd === NO_USERSPACE_CMD) yield op.compute(POLL_STEP_NS);
      else yield* userspaceCmd(cmd);
    }
  }
  const sleepPoll = (t: Timer, us: number): G => guestPoll(t, us, NO_USERSPACE_CMD);
  const sleepMethods: ((t: Timer, us: number) => G)[] = [
    sleepPoll,
    (t, us) => guestPoll(t, us, USERSPACE_SCHED_YIELD), // sleep_sched_poll
    (t, us) => guestPoll(t, us, USERSPACE_MIGRATE_SELF), // sleep_migrate
    (_t, us) => userspaceSleep(us), // sleep_in_userspace
  ];

  /** reset_timer_state: the counter to `cnt`, the timer masked and disabled. */
  function* resetTimerState(t: Timer, cnt: bigint): G {
    yield* setCounter(t, cnt);
    yield setCtl(t, ARCH_TIMER_CTRL_IT_MASK);
  }

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

  function* testTimerXval(t: Timer, xval: bigint, cval: boolean, wm: () => G, resetState: boolean, resetCnt: bigint): G {
    yield op.mask();
    if (resetState) yield* resetTimerState(t, resetCnt);
    yield* setXvalIrq(t, xval, ARCH_TIMER_CTRL_ENABLE, cval);
    yield* wm();
    yield* assertIrqsHandled(1);
    yield op.unmask();
  }

  function* testXvalCheckNoIrq(t: Timer, xval: bigint, us: number, cval: boolean, sleep: (t: Timer, us: number) => G): G {
    yield op.mask();
    yield* setXvalIrq(t, xval, ARCH_TIMER_CTRL_ENABLE | ARCH_TIMER_CTRL_IT_MASK, cval);
    yield* sleep(t, us);
    yield op.unmask();
    yield* assertIrqsHandled(0);
  }

  function* testTimerControlMaskThenUnmask(t: Timer): G {
    s.where = "testTimerControlMaskThenUnmask";
    yield* resetTimerState(t, DEF_CNT);
    yield* setXvalIrq(t, -1n, ARCH_TIMER_CTRL_ENABLE | ARCH_TIMER_CTRL_IT_MASK, false);
    yield op.mask();
    yield setCtl(t, ARCH_TIMER_CTRL_ENABLE);
    yield* waitForNonSpuriousIrq();
    yield* assertIrqsHandled(1);
    yield op.unmask();
  }

  function* testTimerControlMasks(t: Timer): G {
    s.where = "testTimerControlMasks";
    yield* resetTimerState(t, DEF_CNT);
    yield* setXvalIrq(t, -1n, ARCH_TIMER_CTRL_ENABLE | ARCH_TIMER_CTRL_IT_MASK, false);
    yield* sleepPoll(t, TIMEOUT_NO_IRQ_US);
    yield* assertIrqsHandled(0);
    yield setCtl(t, ARCH_TIMER_CTRL_IT_MASK);
  }

  function* testFireATimerMultipleTimes(t: Timer, wm: () => G, num: number): G {
    yield op.mask();
    yield* resetTimerState(t, DEF_CNT);
    yield* setXvalIrq(t, 0n, ARCH_TIMER_CTRL_ENABLE, false);
    for (let i = 1; i <= num; i++) {
      yield* wm();
      yield setCtl(t, ARCH_TIMER_CTRL_ENABLE); // the handler masked and disabled it
      yield* assertIrqsHandled(i);
    }
    yield op.unmask();
  }

  function* testTimersFiredMultipleTimes(t: Timer): G {
    s.where = "testTimersFiredMultipleTimes";
    for (const wm of irqWaitMethods) yield* testFireATimerMultipleTimes(t, wm, 10);
  }

  function* testReprogrammingTimer(t: Timer, wm: () => G, d1: number, d2: number): G {
    yield op.mask();
    yield* resetTimerState(t, DEF_CNT);
    yield* setXvalIrq(t, msToCycles(d1), ARCH_TIMER_CTRL_ENABLE, false);
    yield setTval(t, msToCycles(d2));
    yield* wm();
    yield* guestAssert((yield* getCnt(t)) >= DEF_CNT + msToCycles(d2), "the IRQ came before DEF_CNT + delta_2_ms");
    yield op.unmask();
    yield* assertIrqsHandled(1);
  }

  function* testReprogramTimers(t: Timer): G {
    s.where = "testReprogramTimers";
    for (const wm of irqWaitMethods) {
      yield* testReprogrammingTimer(t, wm, 2 * WAIT_TEST_MS, WAIT_TEST_MS);
      yield* testReprogrammingTimer(t, wm, WAIT_TEST_MS, 2 * WAIT_TEST_MS);
    }
  }

  function* testBasicFunctionality(t: Timer): G {
    s.where = "testBasicFunctionality";
    const tval = msToCycles(WAIT_TEST_MS);
    const cval = DEF_CNT + msToCycles(WAIT_TEST_MS);
    for (const wm of irqWaitMethods) {
      yield* testTimerXval(t, cval, true, wm, true, DEF_CNT);
      yield* testTimerXval(t, tval, false, wm, true, DEF_CNT);
    }
  }

  function* timersSanityChecks(t: Timer, useSched: boolean): G {
    s.where = "timersSanityChecks";
    const wait = msToCycles(WAIT_TEST_MS);
    yield* resetTimerState(t, DEF_CNT);
    yield op.mask();
    // cval in the past
    yield setCval(t, (yield* getCnt(t)) - wait);
    if (useSched) yield* userspaceMigrateVcpu();
    yield* guestAssert((yield* getTval(t)) < 0, "tval of a cval in the past is not negative");
    // tval in the past
    yield setTval(t, -1);
    if (useSched) yield* userspaceMigrateVcpu();
    yield* guestAssert((yield* getCval(t)) < (yield* getCnt(t)), "cval of tval -1 is not in the past");
    // tval larger than TVAL_MAX: programmed through cval
    yield setCval(t, (yield* getCnt(t)) + BigInt(TVAL_MAX) + wait);
    if (useSched) yield* userspaceMigrateVcpu();
    yield* guestAssert((yield* getTval(t)) <= 0, "tval beyond TVAL_MAX is not <= 0");
    // tval larger than 2 * TVAL_MAX: loops around completely
    yield setCval(t, (yield* getCnt(t)) + 2n * BigInt(TVAL_MAX) + wait);
    if (useSched) yield* userspaceMigrateVcpu();
    yield* guestAssert(BigInt(yield* getTval(t)) <= wait, "tval beyond 2 * TVAL_MAX is not <= wait");
    // negative tval that rolls over from 0
    yield* setCounter(t, msToCycles(1));
    yield setTval(t, -wait);
    if (useSched) yield* userspaceMigrateVcpu();
    yield* guestAssert((yield* getCval(t)) >= CVAL_MAX - wait, "a negative tval from near 0 does not wrap cval");
    // tval keeps down-counting from 0 to -1
    yield setTval(t, 0);
    yield* sleepPoll(t, 1);
    yield* guestAssert((yield* getTval(t)) < 0, "tval did not count down below 0");
    yield op.unmask();
    yield setCtl(t, ARCH_TIMER_CTRL_IT_MASK);
  }

  function* testTimersSanityChecks(t: Timer): G {
    s.where = "testTimersSanityChecks";
    yield* timersSanityChecks(t, false);
    // Check how KVM saves/restores these edge-case values.
    yield* timersSanityChecks(t, true);
  }

  function* testSetCntAfterTvalMax(t: Timer, wm: () => G): G {
    yield op.mask();
    yield* resetTimerState(t, DEF_CNT);
    yield* setXvalIrq(t, BigInt(TVAL_MAX) + msToCycles(WAIT_TEST_MS) / 2n, ARCH_TIMER_CTRL_ENABLE, true);
    yield* setCounter(t, BigInt(TVAL_MAX));
    yield* wm();
    yield* assertIrqsHandled(1);
    yield op.unmask();
  }

  function* testTimersAboveTvalMax(t: Timer): G {
    s.where = "testTimersAboveTvalMax";
    // A CVAL implemented as a TVAL would wrap to now + wait_ms and fire at once.
    for (const sm of sleepMethods) {
      yield* resetTimerState(t, DEF_CNT);
      const cval = (yield* getCnt(t)) + BigInt(TVAL_MAX) + msToCycles(WAIT_TEST_MS);
      yield* testXvalCheckNoIrq(t, cval, WAIT_TEST_MS * 1000 + TIMEOUT_NO_IRQ_US, true, sm);
    }
    // Get the IRQ by moving the counter forward.
    for (const wm of irqWaitMethods) yield* testSetCntAfterTvalMax(t, wm);
  }

  /** test_set_cnt_after_xval: counter to cnt1, arm [c|t]val, counter to cnt2, wait for the IRQ. */
  function* testSetCntAfterXval(t: Timer, cnt1: bigint, xval: bigint, cnt2: bigint, wm: () => G, cval: boolean): G {
    yield op.mask();
    yield* setCounter(t, cnt1);
    yield setCtl(t, ARCH_TIMER_CTRL_IT_MASK);
    yield* setXvalIrq(t, xval, ARCH_TIMER_CTRL_ENABLE, cval);
    yield* setCounter(t, cnt2);
    yield* wm();
    yield* assertIrqsHandled(1);
    yield op.unmask();
  }

  /** test_set_cnt_after_xval_no_irq: the same, but no IRQ may come within TIMEOUT_NO_IRQ_US. */
  function* testSetCntAfterXvalNoIrq(t: Timer, cnt1: bigint, xval: bigint, cnt2: bigint, sleep: (t: Timer, us: number) => G, cval: boolean): G {
    yield op.mask();
    yield* setCounter(t, cnt1);
    yield setCtl(t, ARCH_TIMER_CTRL_IT_MASK);
    yield* setXvalIrq(t, xval, ARCH_TIMER_CTRL_ENABLE, cval);
    yield* setCounter(t, cnt2);
    yield* sleep(t, TIMEOUT_NO_IRQ_US);
    yield op.unmask();
    yield* assertIrqsHandled(0);
    yield setCtl(t, ARCH_TIMER_CTRL_IT_MASK);
  }

  function* testMoveCountersAheadOfTimers(t: Timer): G {
    s.where = "testMoveCountersAheadOfTimers";
    for (const wm of irqWaitMethods) {
      yield* testSetCntAfterXval(t, 0n, DEF_CNT, DEF_CNT + 1n, wm, true);
      yield* testSetCntAfterXval(t, CVAL_MAX, 1n, 2n, wm, true);
      // Move counter ahead of negative tval.
      yield* testSetCntAfterXval(t, 0n, -1n, DEF_CNT + 1n, wm, false);
      yield* testSetCntAfterXval(t, 0n, -1n, BigInt(TVAL_MAX), wm, false);
      yield* testSetCntAfterXval(t, 0n, BigInt(TVAL_MAX), BigInt(TVAL_MAX) + 1n, wm, false);
    }
    for (const sm of sleepMethods) yield* testSetCntAfterXvalNoIrq(t, 0n, DEF_CNT, CVAL_MAX, sm, true);
  }

  function* testMoveCountersBehindTimers(t: Timer): G {
    s.where = "testMoveCountersBehindTimers";
    for (const sm of sleepMethods) {
      yield* testSetCntAfterXvalNoIrq(t, DEF_CNT, DEF_CNT - 1n, 0n, sm, true);
      yield* testSetCntAfterXvalNoIrq(t, DEF_CNT, -1n, 0n, sm, false);
    }
  }

  function* testTimersInThePast(t: Timer): G {
    s.where = "testTimersInThePast";
    const tval = -msToCycles(WAIT_TEST_MS);
    for (const wm of irqWaitMethods) {
      // set a timer wait_ms the past.
      yield* testTimerXval(t, DEF_CNT - msToCycles(WAIT_TEST_MS), true, wm, true, DEF_CNT);
      yield* testTimerXval(t, tval, false, wm, true, DEF_CNT);
      // Set a timer to counter=0 (in the past)
      yield* testTimerXval(t, 0n, true, wm, true, DEF_CNT);
      // Set a time for tval=0 (now)
      yield* testTimerXval(t, 0n, false, wm, true, DEF_CNT);
      // Set a timer to as far in the past as possible
      yield* testTimerXval(t, BigInt(TVAL_MIN), false, wm, true, DEF_CNT);
    }
    // The counter at wait_ms and tval -wait_ms: cval = CVAL_MAX - wait_ms, no IRQ.
    for (const sm of sleepMethods) {
      yield* setCounter(t, msToCycles(WAIT_TEST_MS));
      yield* testXvalCheckNoIrq(t, tval, TIMEOUT_NO_IRQ_US, false, sm);
    }
  }

  function* testLongTimerDelays(t: Timer): G {
    s.where = "testLongTimerDelays";
    const tval = msToCycles(LONG_WAIT_TEST_MS);
    const cval = DEF_CNT + msToCycles(LONG_WAIT_TEST_MS);
    for (const wm of irqWaitMethods) {
      yield* testTimerXval(t, cval, true, wm, true, DEF_CNT);
      yield* testTimerXval(t, tval, false, wm, true, DEF_CNT);
    }
  }

  function* guestRunIteration(t: Timer): G {
    yield* testBasicFunctionality(t);
    yield* testTimersSanityChecks(t);
    yield* testTimersAboveTvalMax(t);
    yield* testTimersInThePast(t);
    yield* testMoveCountersAheadOfTimers(t);
    yield* testMoveCountersBehindTimers(t);
    yield* testReprogramTimers(t);
    yield* testTimersFiredMultipleTimes(t);
    yield* testTimerControlMaskThenUnmask(t);
    yield* testTimerControlMasks(t);
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
      for (let i = 0; i < NR_TEST_ITERS; i++) {
        yield* userspaceCmd(NO_USERSPACE_CMD); // GUEST_SYNC(i)
        yield* guestRunIteration(timer);
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

/** The host's side of the userspace commands (handle_sync), counted by command. */
function handleSync(vcpu: Vcpu, s: Shared, counts: number[]): void {
  const { cmd, val, timer } = s.sync;
  counts[cmd] = (counts[cmd] ?? 0) + 1;
  switch (cmd) {
    case SET_COUNTER_VALUE: {
      // kvm_set_cntxct
      vcpu.setOneReg(timer === PHYSICAL ? KVM_REG_ARM_PTIMER_CNT : KVM_REG_ARM_TIMER_CNT, val);
      // The way back into the guest (see the module comment).
      const q = vcpu.vm.queue;
      q.runUntil(q.now + REENTRY_NS);
      break;
    }
    case USERSPACE_USLEEP: {
      // usleep: time passes with the vCPU outside KVM_RUN.
      const q = vcpu.vm.queue;
      q.runUntil(q.now + Number(val) * 1000);
      break;
    }
    case USERSPACE_MIGRATE_SELF: {
      // migrate_self(next_pcpu()): the next host CPU.
      const n = vcpu.vm.host.cpus.length;
      vcpu.setThreadAffinity([(vcpu.hostCpu + 1) % n]);
      break;
    }
    case USERSPACE_SCHED_YIELD:
    case NO_USERSPACE_CMD:
      // sched_yield, or nothing: the round trip alone.
      break;
  }
}

/** test_vm_create + test_run: one vCPU with a vgic-v3 (vgic_v3_setup(vm, 1, 64)), run to GUEST_DONE. */
function testRun(timer: Timer): { shared: Shared; now: number; counts: number[]; cpusSeen: Set<number> } {
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
  const shared: Shared = { handled: 0, spurious: 0, failure: undefined, where: "", sync: { cmd: NO_USERSPACE_CMD, val: 0n, timer: VIRTUAL } };
  vcpu.loadGuest(edgeCasesGuest(timer, irqs, shared));
  // Start on CPU 0.
  vcpu.setThreadAffinity([0]);
  const counts: number[] = [];
  const cpusSeen = new Set<number>();
  const deadline = 120_000_000_000;
  for (;;) {
    const e = vcpu.run(0, { until: deadline });
    cpusSeen.add(vcpu.hostCpu);
    if (e.reason !== KVM_EXIT_MMIO || e.physAddr !== UCALL_ADDR || !e.isWrite) throw new Error(`${shared.where}: unexpected exit ${e.reason} at ${kvm.queue.now} ns`);
    if (e.value === UCALL_SYNC) handleSync(vcpu, shared, counts);
    else if (e.value === UCALL_ABORT) throw new Error(`GUEST_ASSERT failed: ${shared.failure}`);
    else {
      expect(e.value).toBe(UCALL_DONE);
      break;
    }
  }
  return { shared, now: kvm.queue.now, counts, cpusSeen };
}

describe("arch_timer_edge_cases (tools/testing/selftests/kvm/arm64/arch_timer_edge_cases.c)", () => {
  test.each([
    ["VIRTUAL", VIRTUAL],
    ["PHYSICAL", PHYSICAL],
  ] as const)("guest_code(%s): 5 iterations of every case, then the long delays; no spurious interrupt", (_name, timer) => {
    const { shared, now, counts, cpusSeen } = testRun(timer);
    expect(shared.failure).toBeUndefined();
    expect(shared.spurious).toBe(0);
    // Every userspace command was exercised: set_counter, usleep, sched_yield, migration.
    for (const cmd of [SET_COUNTER_VALUE, USERSPACE_USLEEP, USERSPACE_SCHED_YIELD, USERSPACE_MIGRATE_SELF]) expect(counts[cmd]).toBeGreaterThan(0);
    expect(cpusSeen.size).toBeGreaterThan(1);
    // The no-IRQ waits alone add up to over a second per iteration (50 ms each, 60 ms above TVAL_MAX).
    expect(now).toBeGreaterThan(NR_TEST_ITERS * 1e9);
  }, 120_000);
});
