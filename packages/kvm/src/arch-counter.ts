/**
 * The arm64 system registers a KVM guest reads without a trap and whose value
 * KVM sets up rather than emulates: the Generic Timer's counter (CNTFRQ_EL0,
 * CNTVCT_EL0, CNTPCT_EL0; Arm ARM D11.2) and MPIDR_EL1 (the vCPU's
 * VMPIDR_EL2).
 *
 * - CNTVCT_EL0 is the physical count minus CNTVOFF_EL2. KVM sets the VM's
 *   offset to the host counter at VM creation (arch/arm64/kvm/arch_timer.c
 *   kvm_timer_init_vm → timer_set_offset(…, kvm_phys_timer_read())), so the
 *   guest's virtual counter starts at 0 when the VM is created. With
 *   CNTHCTL_EL2.EL1PCTEN/EL0VCTEN set (timer_set_traps without an offset to
 *   hide), neither counter read traps.
 * - CNTPCT_EL0 is the host's physical counter: virtual time since the start
 *   of the simulation.
 * - CNTFRQ_EL0 is whatever the host firmware programmed; KVM never traps or
 *   changes it. The model's default is 25 MHz, the counter frequency of
 *   Ampere Altra firmware, the host the cost model's figures were measured
 *   on (cost-model.ts); a round figure of the pre-Armv8.6 era, assumed
 *   rather than read from that report. A VM can take another
 *   (`createVm(type, { counterHz })`, e.g. 1 GHz, which Armv8.6 FEAT_ECV
 *   hosts must use).
 * - MPIDR_EL1 reads VMPIDR_EL2, which KVM fills from the vCPU id
 *   (arch/arm64/kvm/sys_regs.c reset_mpidr: RES1 bit 31, Aff0 = id & 0xf,
 *   Aff1 = (id >> 4) & 0xff, Aff2 = (id >> 12) & 0xff).
 *
 * The tick count is floor(ns × hz / 10^9), computed exactly in doubles for
 * any frequency up to 1 GHz and times up to 2^53 ns.
 */

import { sysReg, type WideValue } from "@irqlab/sim";
import { mpidrOf } from "./firmware.js";

/** CNTFRQ_EL0 (op0 3, op1 3, CRn 14, CRm 0, op2 0). */
export const CNTFRQ_EL0 = sysReg(3, 3, 14, 0, 0);
/** CNTPCT_EL0 (op0 3, op1 3, CRn 14, CRm 0, op2 1). */
export const CNTPCT_EL0 = sysReg(3, 3, 14, 0, 1);
/** CNTVCT_EL0 (op0 3, op1 3, CRn 14, CRm 0, op2 2). */
export const CNTVCT_EL0 = sysReg(3, 3, 14, 0, 2);
/** MPIDR_EL1 (op0 3, op1 0, CRn 0, CRm 0, op2 5). */
export const MPIDR_EL1_REG = sysReg(3, 0, 0, 0, 5);

/** The default counter frequency of a VM: 25 MHz (see the module comment). */
export const DEFAULT_COUNTER_HZ = 25_000_000;
/** The highest counter frequency accepted (FEAT_ECV's fixed 1 GHz). */
export const MAX_COUNTER_HZ = 1_000_000_000;

const NS_PER_S = 1_000_000_000;

/** Counter ticks after `ns` nanoseconds at `hz`: floor(ns × hz / 10^9), exact. */
export function counterTicks(ns: number, hz: number): number {
  if (ns <= 0) return 0;
  const s = Math.floor(ns / NS_PER_S);
  const r = ns - s * NS_PER_S; // < 10^9
  // r × hz can reach 10^18: split r = r1 × 10^5 + r2 so every product stays below 2^53.
  const r1 = Math.floor(r / 100_000);
  const r2 = r - r1 * 100_000;
  const q = r1 * hz; // < 10^13
  const qHigh = Math.floor(q / 10_000);
  return s * hz + qHigh + Math.floor(((q - qHigh * 10_000) * 100_000 + r2 * hz) / NS_PER_S);
}

/**
 * The first virtual nanosecond at which a counter that read 0 at `epoch` and
 * runs at `hz` reads at least `ticks` (a timer's compare value), or -1 when
 * that lies beyond 2^53 ns. The quotient ticks × 10^9 / hz is rounded in
 * doubles; the result is then stepped to the exact nanosecond with
 * {@link counterTicks}.
 */
export function counterDeadlineNs(ticks: number, epoch: number, hz: number): number {
  if (ticks <= 0) return epoch;
  let t = epoch + Math.ceil((ticks * NS_PER_S) / hz);
  if (!Number.isSafeInteger(t)) return -1;
  while (t > epoch && counterTicks(t - 1 - epoch, hz) >= ticks) t--;
  while (counterTicks(t - epoch, hz) < ticks) t++;
  return t;
}

/** A counter under a VM-wide offset: (host count − offset) mod 2^64. */
export function offsetCounter(now: number, hz: number, offset: bigint): bigint {
  return BigInt.asUintN(64, BigInt(counterTicks(now, hz)) - offset);
}

/** Whether `reg` is one of the registers {@link readArchCounterReg} answers. */
export function isArchCounterReg(reg: number): boolean {
  return reg === CNTVCT_EL0 || reg === CNTPCT_EL0 || reg === CNTFRQ_EL0 || reg === MPIDR_EL1_REG;
}

/**
 * MRS of CNTFRQ_EL0, CNTVCT_EL0, CNTPCT_EL0 or MPIDR_EL1 by vCPU `vcpuId` at
 * virtual time `now` of a VM created at `epoch` with counter frequency `hz`.
 * Returns the low word and puts the high word in `wide.hi`. With `offset`
 * (KVM_ARM_SET_COUNTER_OFFSET) both counters read the host count minus it,
 * modulo 2^64.
 */
export function readArchCounterReg(reg: number, now: number, epoch: number, hz: number, vcpuId: number, wide: WideValue, offset?: bigint): number {
  if (offset !== undefined && (reg === CNTVCT_EL0 || reg === CNTPCT_EL0)) {
    const c = offsetCounter(now, hz, offset);
    wide.hi = Number(c >> 32n);
    return Number(c & 0xffff_ffffn);
  }
  let v: number;
  if (reg === CNTVCT_EL0) v = counterTicks(now - epoch, hz);
  else if (reg === CNTPCT_EL0) v = counterTicks(now, hz);
  else if (reg === CNTFRQ_EL0) v = hz;
  else v = mpidrOf(vcpuId);
  const hi = Math.floor(v / 2 ** 32);
  wide.hi = hi >>> 0;
  return (v - hi * 2 ** 32) >>> 0;
}
