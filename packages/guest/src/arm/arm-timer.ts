/**
 * The arm64 Generic Timer's counter as a guest uses it (Arm ARM D11.2):
 * CNTFRQ_EL0 gives the frequency, CNTVCT_EL0 the virtual count. Under KVM
 * neither read traps. Linux's arch_timer_read_cntvct_el0() and
 * kvm-unit-tests' get_cntvct() read CNTVCT_EL0; udelay()/mdelay() busy-wait
 * on it (arch/arm64/lib/delay.c __delay, kvm-unit-tests lib/arm/delay.c).
 *
 * Also TPIDR_EL1, which Linux uses for the per-CPU offset
 * (set_my_cpu_offset): irqlab's images keep the logical CPU number there so
 * that an interrupt vector can tell which CPU it runs on, as
 * smp_processor_id() does.
 */

import { op, sysReg, type ComputeOp, type SysRegReadOp, type SysRegWriteOp } from "@irqlab/sim";
import { cpuRelax } from "../cpu.js";
import type { GuestCode } from "../guest-image.js";

/** CNTFRQ_EL0 (op0 3, op1 3, CRn 14, CRm 0, op2 0). */
export const CNTFRQ_EL0 = sysReg(3, 3, 14, 0, 0);
/** CNTVCT_EL0 (op0 3, op1 3, CRn 14, CRm 0, op2 2). */
export const CNTVCT_EL0 = sysReg(3, 3, 14, 0, 2);
/** TPIDR_EL1 (op0 3, op1 0, CRn 13, CRm 0, op2 4). */
export const TPIDR_EL1 = sysReg(3, 0, 13, 0, 4);
/** CNTV_CTL_EL0 (op0 3, op1 3, CRn 14, CRm 3, op2 1): the EL1 virtual timer's control. */
export const CNTV_CTL_EL0 = sysReg(3, 3, 14, 3, 1);
/** CNTV_CVAL_EL0 (op0 3, op1 3, CRn 14, CRm 3, op2 2): its compare value. */
export const CNTV_CVAL_EL0 = sysReg(3, 3, 14, 3, 2);
/** CNTV_TVAL_EL0 (op0 3, op1 3, CRn 14, CRm 3, op2 0): its 32-bit signed timer value. */
export const CNTV_TVAL_EL0 = sysReg(3, 3, 14, 3, 0);
/** CNTx_CTL.ENABLE (include/clocksource/arm_arch_timer.h ARCH_TIMER_CTRL_ENABLE). */
export const ARCH_TIMER_CTRL_ENABLE = 1 << 0;
/** CNTx_CTL.IMASK (ARCH_TIMER_CTRL_IT_MASK). */
export const ARCH_TIMER_CTRL_IT_MASK = 1 << 1;
/** CNTx_CTL.ISTATUS (ARCH_TIMER_CTRL_IT_STAT), read-only. */
export const ARCH_TIMER_CTRL_IT_STAT = 1 << 2;

const READ_CNTVCT: SysRegReadOp = op.mrs(CNTVCT_EL0);
/** smp_processor_id()'s read (see {@link cpuId}), for a hot path that reads it without a generator of its own. */
export const READ_TPIDR: SysRegReadOp = op.mrs(TPIDR_EL1);

/** `const hz = yield* readCntfrq()`: CNTFRQ_EL0. */
export function* readCntfrq(): GuestCode<number> {
  return (yield op.mrs(CNTFRQ_EL0)).value;
}

/** `const t = yield* readCntvct()`: CNTVCT_EL0 as a number (exact below 2^53 ticks). */
export function* readCntvct(): GuestCode<number> {
  const r = yield READ_CNTVCT;
  return r.hi * 2 ** 32 + r.value;
}

/** ARCH_TIMER_EVT_STREAM_PERIOD_US: the event stream wakes a WFE every 100 us. */
export const EVT_STREAM_PERIOD_US = 100;

/**
 * __delay(ticks) at counter frequency `hz`: waits until CNTVCT_EL0 has
 * advanced by `ticks`. As Linux's arch/arm64/lib/delay.c does with the
 * timer event stream, it sleeps in WFE-sized steps of up to 100 us while more
 * than one period is left (a `compute` the model can interrupt), then spins
 * with cpu_relax() on the counter for the rest. kvm-unit-tests' delay() spins
 * all the way; the guest sees the same counter either way, with fewer
 * operations here.
 */
export function* delayTicks(ticks: number, hz: number): GuestCode {
  const start = yield* readCntvct();
  const period = Math.ceil((EVT_STREAM_PERIOD_US * hz) / 1_000_000);
  const end = start + ticks;
  // while ((get_cycles() - start + timer_evt_period) < cycles) wfe();
  if ((yield* cntvctPollBelow(Math.max(0, end - period), WFE_STEP)) >= end) return;
  // while ((get_cycles() - start) < cycles) cpu_relax();
  // A departure from delay.c: a cpu_relax() (CPU_RELAX_NS) comes between the two loops, where the
  // source's second loop reads the counter at once.
  yield cpuRelax();
  yield* cntvctPollBelow(end, cpuRelax());
}

/** One event-stream period of WFE, as the model's delay sleeps it. */
const WFE_STEP: ComputeOp = op.compute(EVT_STREAM_PERIOD_US * 1000);

/** `while (CNTVCT_EL0 < end) relax;` as op.pollBelow (unbounded, as the source's loop); returns the last value read. */
function* cntvctPollBelow(end: number, relax: ComputeOp): GuestCode<number> {
  for (;;) {
    const r = yield op.pollBelow(READ_CNTVCT, end, relax, Number.MAX_SAFE_INTEGER);
    const v = r.hi * 2 ** 32 + r.value;
    if (v >= end) return v;
  }
}

/** udelay(us) at counter frequency `hz`: ticks rounded up, as __udelay does. */
export function* udelay(us: number, hz: number): GuestCode {
  yield* delayTicks(Math.ceil((us * hz) / 1_000_000), hz);
}

/** mdelay(ms) at counter frequency `hz`. */
export function* mdelay(ms: number, hz: number): GuestCode {
  yield* delayTicks(Math.ceil((ms * hz) / 1_000), hz);
}

/** set_my_cpu_offset(): this CPU's logical number into TPIDR_EL1. */
export function* setCpuId(logical: number): GuestCode {
  yield op.msr(TPIDR_EL1, logical);
}

/** smp_processor_id(): the logical number {@link setCpuId} left in TPIDR_EL1. */
export function* cpuId(): GuestCode<number> {
  return (yield READ_TPIDR).value;
}

/** `write_sysreg(cval, cntv_cval_el0)`: the virtual timer's compare value (64 bits, exact below 2^53). */
export function writeCntvCval(cval: number): SysRegWriteOp {
  const hi = Math.floor(cval / 2 ** 32);
  return op.msr(CNTV_CVAL_EL0, (cval - hi * 2 ** 32) >>> 0, hi >>> 0);
}

/** `write_sysreg(ctl, cntv_ctl_el0)`. */
export function writeCntvCtl(ctl: number): SysRegWriteOp {
  return op.msr(CNTV_CTL_EL0, ctl);
}
