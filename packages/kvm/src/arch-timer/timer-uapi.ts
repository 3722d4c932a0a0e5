/**
 * Names and numbers of the arm64 Generic Timer as KVM exposes it: the EL0
 * timer registers a guest programs (Arm ARM D11.2, D23.8: CNTV_* and CNTP_*),
 * their control bits (include/clocksource/arm_arch_timer.h ARCH_TIMER_CTRL_*),
 * the vCPU attributes that choose their PPIs (arch/arm64/include/uapi/asm/
 * kvm.h KVM_ARM_VCPU_TIMER_*), the default PPIs (arch/arm64/kvm/arch_timer.c
 * default_ppi[]) and the device_irq_level bits of kvm_run for a userspace
 * irqchip (KVM_ARM_DEV_EL1_*).
 */

import { sysReg } from "@irqlab/sim";

/** CNTP_TVAL_EL0 (op0 3, op1 3, CRn 14, CRm 2, op2 0). */
export const CNTP_TVAL_EL0 = sysReg(3, 3, 14, 2, 0);
/** CNTP_CTL_EL0 (op0 3, op1 3, CRn 14, CRm 2, op2 1). */
export const CNTP_CTL_EL0 = sysReg(3, 3, 14, 2, 1);
/** CNTP_CVAL_EL0 (op0 3, op1 3, CRn 14, CRm 2, op2 2). */
export const CNTP_CVAL_EL0 = sysReg(3, 3, 14, 2, 2);
/** CNTV_TVAL_EL0 (op0 3, op1 3, CRn 14, CRm 3, op2 0). */
export const CNTV_TVAL_EL0 = sysReg(3, 3, 14, 3, 0);
/** CNTV_CTL_EL0 (op0 3, op1 3, CRn 14, CRm 3, op2 1). */
export const CNTV_CTL_EL0 = sysReg(3, 3, 14, 3, 1);
/** CNTV_CVAL_EL0 (op0 3, op1 3, CRn 14, CRm 3, op2 2). */
export const CNTV_CVAL_EL0 = sysReg(3, 3, 14, 3, 2);

/** CNTx_CTL.ENABLE (ARCH_TIMER_CTRL_ENABLE). */
export const ARCH_TIMER_CTRL_ENABLE = 1 << 0;
/** CNTx_CTL.IMASK (ARCH_TIMER_CTRL_IT_MASK): the condition does not assert the output. */
export const ARCH_TIMER_CTRL_IT_MASK = 1 << 1;
/** CNTx_CTL.ISTATUS (ARCH_TIMER_CTRL_IT_STAT): the condition is met; read-only. */
export const ARCH_TIMER_CTRL_IT_STAT = 1 << 2;

/** enum kvm_arch_timers: the EL1 virtual timer. */
export const TIMER_VTIMER = 0;
/** enum kvm_arch_timers: the EL1 physical timer. */
export const TIMER_PTIMER = 1;
/** enum kvm_arch_timers: the EL2 virtual timer (nested virtualization only). */
export const TIMER_HVTIMER = 2;
/** enum kvm_arch_timers: the EL2 physical timer (nested virtualization only). */
export const TIMER_HPTIMER = 3;

/** KVM_ARM_VCPU_TIMER_CTRL attribute: the virtual timer's PPI. */
export const KVM_ARM_VCPU_TIMER_IRQ_VTIMER = 0;
/** KVM_ARM_VCPU_TIMER_CTRL attribute: the physical timer's PPI. */
export const KVM_ARM_VCPU_TIMER_IRQ_PTIMER = 1;
/** KVM_ARM_VCPU_TIMER_CTRL attribute: the EL2 virtual timer's PPI. */
export const KVM_ARM_VCPU_TIMER_IRQ_HVTIMER = 2;
/** KVM_ARM_VCPU_TIMER_CTRL attribute: the EL2 physical timer's PPI. */
export const KVM_ARM_VCPU_TIMER_IRQ_HPTIMER = 3;

/**
 * arch_timer.c default_ppi[], indexed by enum kvm_arch_timers: vtimer 27,
 * ptimer 30, EL2 virtual 28, EL2 physical 26 — the INTIDs of the Server Base
 * System Architecture that QEMU's virt board also puts in its /timer node.
 */
export const DEFAULT_TIMER_PPIS: readonly number[] = Object.freeze([27, 30, 28, 26]);

/** kvm_run.s.regs.device_irq_level bit: the EL1 virtual timer's output is high. */
export const KVM_ARM_DEV_EL1_VTIMER = 1 << 0;
/** kvm_run.s.regs.device_irq_level bit: the EL1 physical timer's output is high. */
export const KVM_ARM_DEV_EL1_PTIMER = 1 << 1;
/** kvm_run.s.regs.device_irq_level bit: the PMU overflow output is high. */
export const KVM_ARM_DEV_PMU = 1 << 2;

const TIMER_REG_SPACE = CNTP_TVAL_EL0 >>> 9; // op0 3, op1 3, CRn 14, CRm 2 or 3

/** Whether `reg` is one of the six EL0 timer registers (CNTP_/CNTV_ TVAL, CTL, CVAL). */
export function isArchTimerReg(reg: number): boolean {
  return reg >>> 9 === TIMER_REG_SPACE && (reg & 0x1f) === 0 && ((reg >>> 5) & 7) <= 2;
}
