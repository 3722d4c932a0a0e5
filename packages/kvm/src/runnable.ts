/**
 * kvm_arch_vcpu_runnable(): may a blocked vCPU leave kvm_vcpu_block()? Two
 * selectable implementations, the subject of seed 004 ("An ode to
 * kvm_arch_vcpu_runnable()", Andrew Jones, kvmarm, 2017; Linux
 * arch/arm64/kvm/arm.c kvm_arch_vcpu_runnable, vgic.c kvm_vgic_vcpu_pending_irq;
 * commit 325f9c649c8a "KVM: arm/arm64: use vcpu requests for irq injection"):
 *
 * - `"irq-lines"`: Linux arm64's condition from the ode's time until
 *   4ce98bf0865c (April 2026), and still Linux's with an in-kernel vgic
 *   (arch/arm64/kvm/arm.c): `(irq_lines || kvm_vgic_vcpu_pending_irq(v)) &&
 *   !stopped && !pause`. Here `irq_lines || vgic pending` is the vCPU's
 *   irqchip's {@link VcpuIrqChip.hasPendingIrq}. A source whose state reaches
 *   the irqchip only at guest entry (the vPMU: kvm_pmu_update_state runs from
 *   kvm_pmu_flush_hwstate) kicks the vCPU with KVM_REQ_IRQ_PENDING, but this
 *   check does not see it: the wake-up is lost (the ode's item 5). Since
 *   4ce98bf0865c a vCPU whose irqchip is in userspace also counts
 *   `kvm_timer_should_notify_user() || kvm_pmu_should_notify_user()` (a timer
 *   or vPMU output level userspace has not been told of) in irq_lines; this
 *   policy does not add that term.
 * - `"irq-pending-request"`: the ode's proposal (items 1-3): runnable when the
 *   KVM_REQ_IRQ_PENDING request is pending; KVM_IRQ_LINE deasserts use a
 *   KVM_REQUEST_NO_WAKEUP request instead, so a deassert never wakes.
 *
 * Note: Linux did not adopt the second form for runnable(); it adopted
 * KVM_REQ_IRQ_PENDING for injection (325f9c649c8a, v4.13) and kept the
 * irq_lines/vgic check, fixing the userspace-irqchip PMU/timer case much later
 * (4ce98bf0865c, April 2026). The model also shows a hole in the proposal as
 * written: IRQ_PENDING is cleared at guest entry, so a WFI executed with an
 * interrupt already flushed but masked blocks although the interrupt is pending.
 */

import type { VcpuIrqChip } from "./irqchip.js";

/** Which kvm_arch_vcpu_runnable() a VM uses. */
export type RunnablePolicy = "irq-lines" | "irq-pending-request";

/** The policies, for validation and listings. */
export const RUNNABLE_POLICIES: readonly RunnablePolicy[] = ["irq-lines", "irq-pending-request"];

/** What runnable() looks at. */
export interface RunnableInputs {
  readonly chip: VcpuIrqChip;
  /** KVM_MP_STATE_STOPPED (powered off). */
  readonly stopped: boolean;
  /** vcpu->arch.pause. */
  readonly paused: boolean;
  /** kvm_test_request(KVM_REQ_IRQ_PENDING). */
  readonly irqPendingRequest: boolean;
}

/** kvm_arch_vcpu_runnable() under `policy`. */
export function kvmArchVcpuRunnable(policy: RunnablePolicy, v: RunnableInputs): boolean {
  if (v.stopped || v.paused) return false;
  switch (policy) {
    case "irq-lines":
      return v.chip.hasPendingIrq();
    case "irq-pending-request":
      return v.irqPendingRequest;
  }
}
