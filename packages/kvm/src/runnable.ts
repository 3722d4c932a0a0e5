/**
 * kvm_arch_vcpu_runnable(): may a blocked vCPU leave kvm_vcpu_block()? Three
 * selectable implementations, the subject of seed 004 ("An ode to
 * kvm_arch_vcpu_runnable()", Andrew Jones, kvmarm, 2017; Linux
 * arch/arm64/kvm/arm.c kvm_arch_vcpu_runnable, vgic.c kvm_vgic_vcpu_pending_irq;
 * commit 325f9c649c8a "KVM: arm/arm64: use vcpu requests for irq injection"):
 *
 * - `"irq-lines"` (default): Linux arm64's condition as mainline has it since
 *   4ce98bf0865c ("KVM: arm64: Wake-up from WFI when iqrchip is in
 *   userspace", April 2026, after v7.0): `(irq_lines ||
 *   kvm_vgic_vcpu_pending_irq(v)) && !stopped && !pause`, where a vCPU whose
 *   irqchip is in userspace also counts in irq_lines
 *   `kvm_timer_should_notify_user() || kvm_pmu_should_notify_user()`: a timer
 *   or vPMU output level that kvm_run's device_irq_level has not told
 *   userspace yet. Here `irq_lines || vgic pending` is the vCPU's irqchip's
 *   {@link VcpuIrqChip.hasPendingIrq}, the notify term
 *   {@link RunnableInputs.userspaceNotify}. With an in-kernel vgic the term
 *   is false and nothing changed. A source whose state reaches the irqchip
 *   only at guest entry (the vPMU: kvm_pmu_update_state runs from
 *   kvm_pmu_flush_hwstate) kicks the vCPU with KVM_REQ_IRQ_PENDING, but this
 *   check does not see it: the wake-up is lost (the ode's item 5). The fix
 *   does not change that: kvm_pmu_should_notify_user compares pmu->irq_level,
 *   which only kvm_pmu_update_state refreshes, so an overflow during WFI is
 *   still not seen; the timer's term uses kvm_timer_should_fire, current at
 *   every check.
 * - `"linux-7.0"`: the same without the userspace-irqchip term, as Linux had
 *   it from the ode's time until v7.0, the last release before 4ce98bf0865c:
 *   a vCPU without an in-kernel irqchip sleeps in WFI through its own timer's
 *   expiry (the commit: broken since b57de4ffd7c6d "KVM: arm64: Simplify
 *   kvm_cpu_has_pending_timer()").
 * - `"irq-pending-request"`: the ode's proposal (items 1-3): runnable when the
 *   KVM_REQ_IRQ_PENDING request is pending; KVM_IRQ_LINE deasserts use a
 *   KVM_REQUEST_NO_WAKEUP request instead, so a deassert never wakes.
 *
 * Note: Linux did not adopt the third form for runnable(); it adopted
 * KVM_REQ_IRQ_PENDING for injection (325f9c649c8a, v4.13) and kept the
 * irq_lines/vgic check. The model also shows a hole in the proposal as
 * written: IRQ_PENDING is cleared at guest entry, so a WFI executed with an
 * interrupt already flushed but masked blocks although the interrupt is pending.
 */

import type { VcpuIrqChip } from "./irqchip.js";

/** Which kvm_arch_vcpu_runnable() a VM uses. */
export type RunnablePolicy = "irq-lines" | "linux-7.0" | "irq-pending-request";

/** The policies, for validation and listings. */
export const RUNNABLE_POLICIES: readonly RunnablePolicy[] = ["irq-lines", "linux-7.0", "irq-pending-request"];

/** What runnable() looks at. */
export interface RunnableInputs {
  readonly chip: VcpuIrqChip;
  /** KVM_MP_STATE_STOPPED (powered off). */
  readonly stopped: boolean;
  /** vcpu->arch.pause. */
  readonly paused: boolean;
  /** kvm_test_request(KVM_REQ_IRQ_PENDING). */
  readonly irqPendingRequest: boolean;
  /**
   * No in-kernel irqchip, and `kvm_timer_should_notify_user() ||
   * kvm_pmu_should_notify_user()`: an output level device_irq_level has not
   * reported (the model's vCPUs have the timers' term only).
   */
  readonly userspaceNotify: boolean;
}

/** kvm_arch_vcpu_runnable() under `policy`. */
export function kvmArchVcpuRunnable(policy: RunnablePolicy, v: RunnableInputs): boolean {
  return runnableUnder(policy, v.chip, v.stopped, v.paused, v.irqPendingRequest, v.userspaceNotify);
}

/**
 * @internal {@link kvmArchVcpuRunnable} with its inputs as arguments: what a
 * vCPU asks at every WFI and wake-up, without a record of them to write and read.
 */
export function runnableUnder(policy: RunnablePolicy, chip: VcpuIrqChip, stopped: boolean, paused: boolean, irqPendingRequest: boolean, userspaceNotify: boolean): boolean {
  if (stopped || paused) return false;
  switch (policy) {
    case "irq-lines":
      return userspaceNotify || chip.hasPendingIrq();
    case "linux-7.0":
      return chip.hasPendingIrq();
    case "irq-pending-request":
      return irqPendingRequest;
  }
}
