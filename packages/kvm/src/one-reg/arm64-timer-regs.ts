/**
 * arm64 timer registers through ONE_REG (arch/arm64/kvm/arch_timer.c
 * kvm_arm_timer_get_reg / kvm_arm_timer_set_reg; guest.c timer_reg_list).
 *
 * - CTL reads as the guest's MRS does (ISTATUS computed); a write sets
 *   ENABLE/IMASK and re-evaluates the timer (kvm_arm_timer_write).
 * - CVAL reads and writes the compare value.
 * - CNT reads the counter the timer compares against. A write moves that
 *   counter for the whole VM — timer_set_offset of the VM-wide voffset
 *   (TIMER_CNT) or poffset (PTIMER_CNT) to the host count minus the value —
 *   unless KVM_ARM_SET_COUNTER_OFFSET was used (KVM_ARCH_FLAG_VM_COUNTER_OFFSET):
 *   then the write is accepted and ignored.
 */
import { counterTicks, offsetCounter } from "../arch-counter.js";
import type { ArchTimerContext } from "../arch-timer/arch-timer-context.js";
import { TIMER_PTIMER, TIMER_VTIMER } from "../arch-timer/timer-uapi.js";
import {
  KVM_REG_ARM_PTIMER_CNT,
  KVM_REG_ARM_PTIMER_CTL,
  KVM_REG_ARM_PTIMER_CVAL,
  KVM_REG_ARM_TIMER_CNT,
  KVM_REG_ARM_TIMER_CTL,
  KVM_REG_ARM_TIMER_CVAL,
} from "./arm64-reg-ids.js";
import type { Arm64RegVcpu } from "./arm64-regs.js";

/** The timer registers, in the order guest.c's timer_reg_list gives them. */
export const ARM64_TIMER_REG_IDS: readonly bigint[] = [
  KVM_REG_ARM_TIMER_CTL,
  KVM_REG_ARM_TIMER_CNT,
  KVM_REG_ARM_TIMER_CVAL,
  KVM_REG_ARM_PTIMER_CTL,
  KVM_REG_ARM_PTIMER_CNT,
  KVM_REG_ARM_PTIMER_CVAL,
];

/** Whether `id` is a timer register (is_timer_reg). */
export function isTimerReg(id: bigint): boolean {
  return ARM64_TIMER_REG_IDS.includes(id);
}

function which(id: bigint): { index: number; reg: "ctl" | "cnt" | "cval" } {
  const index = id === KVM_REG_ARM_PTIMER_CTL || id === KVM_REG_ARM_PTIMER_CNT || id === KVM_REG_ARM_PTIMER_CVAL ? TIMER_PTIMER : TIMER_VTIMER;
  const reg = id === KVM_REG_ARM_TIMER_CTL || id === KVM_REG_ARM_PTIMER_CTL ? "ctl" : id === KVM_REG_ARM_TIMER_CNT || id === KVM_REG_ARM_PTIMER_CNT ? "cnt" : "cval";
  return { index, reg };
}

/** The counter timer `index` compares against, now (host count minus its offset). */
function readCounter(v: Arm64RegVcpu, index: number): bigint {
  const vm = v.vm;
  const now = vm.queue.now;
  const off = vm.timerData.offset(index);
  if (off !== undefined) return offsetCounter(now, vm.counterHz, off);
  return BigInt(counterTicks(index === TIMER_VTIMER ? now - vm.counterEpoch : now, vm.counterHz));
}

function context(v: Arm64RegVcpu, index: number): ArchTimerContext {
  const t = v.archTimers();
  return index === TIMER_VTIMER ? t.vtimer : t.ptimer;
}

/** kvm_arm_timer_get_reg. */
export function getTimerReg(v: Arm64RegVcpu, id: bigint): bigint {
  const { index, reg } = which(id);
  if (reg === "cnt") return readCounter(v, index);
  const t = context(v, index);
  return reg === "ctl" ? BigInt(t.readCtl(v.vm.queue.now)) : t.cvalBig;
}

/** kvm_arm_timer_set_reg. */
export function setTimerReg(v: Arm64RegVcpu, id: bigint, value: bigint): void {
  const { index, reg } = which(id);
  const vm = v.vm;
  if (reg === "cnt") {
    if (vm.timerData.vmCounterOffset) return;
    vm.timerData.setTimerOffset(index, BigInt(counterTicks(vm.queue.now, vm.counterHz)) - value);
    // The offset is the VM's: every vCPU's timers compare against the moved counter.
    for (const other of vm.vcpus) other.countersChanged();
    return;
  }
  const t = context(v, index);
  if (reg === "ctl") t.writeCtl(Number(value & 0xffff_ffffn));
  else t.writeCval(Number(value & 0xffff_ffffn), Number(value >> 32n));
}
