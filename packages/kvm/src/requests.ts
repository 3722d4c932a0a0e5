/**
 * vCPU requests: a bitmap of work another thread asks a vCPU to do before it
 * next enters the guest, plus kicks that make sure it notices
 * (include/linux/kvm_host.h, Documentation/virt/kvm/vcpu-requests.rst;
 * virt/kvm/kvm_main.c kvm_vcpu_kick, kvm_make_all_cpus_request).
 *
 * A request word is `number | flags`: bits 0-7 the request number
 * (KVM_REQUEST_MASK), KVM_REQUEST_NO_WAKEUP (bit 8: kick a running vCPU but do
 * not wake a sleeping one), KVM_REQUEST_WAIT (bit 9), KVM_REQUEST_NO_ACTION
 * (bit 10: set no bit, only make sure the vCPU is out of guest mode:
 * kvm_make_vcpu_request). Generic requests are 0-7, architecture requests
 * start at KVM_REQUEST_ARCH_BASE (8). Numbers below are arm64's
 * (arch/arm64/include/asm/kvm_host.h); RISC-V numbers its own arch requests
 * differently and has no IRQ_PENDING request (it marks irqs_pending_mask and
 * kicks); this model uses the arm64 bit for both architectures.
 */

/** Mask of the request number in a request word. */
export const KVM_REQUEST_MASK = 0xff;
/** Flag: do not wake a blocked vCPU, only kick one in guest mode. */
export const KVM_REQUEST_NO_WAKEUP = 1 << 8;
/** Flag: the requester waits for the vCPU to acknowledge (leave guest mode). */
export const KVM_REQUEST_WAIT = 1 << 9;
/** Flag: no request bit; the vCPU is only woken (unless NO_WAKEUP) or forced out of guest mode. */
export const KVM_REQUEST_NO_ACTION = 1 << 10;
/** First architecture request number. */
export const KVM_REQUEST_ARCH_BASE = 8;

/** Generic: flush the TLB. */
export const KVM_REQ_TLB_FLUSH = 0 | KVM_REQUEST_WAIT | KVM_REQUEST_NO_WAKEUP;
/** Generic: the VM is dead; KVM_RUN fails with EIO. */
export const KVM_REQ_VM_DEAD = 1 | KVM_REQUEST_WAIT | KVM_REQUEST_NO_WAKEUP;
/**
 * Generic: make sure the vCPU has left guest mode, with nothing for it to do
 * (include/linux/kvm_host.h; number 0, as KVM_REQ_TLB_FLUSH, but no bit is set).
 */
export const KVM_REQ_OUTSIDE_GUEST_MODE = KVM_REQUEST_NO_ACTION | KVM_REQUEST_WAIT | KVM_REQUEST_NO_WAKEUP;
/** Generic: leave kvm_vcpu_block() even if not runnable. */
export const KVM_REQ_UNBLOCK = 2;
/** arm64: power-off or pause; sleep until runnable. */
export const KVM_REQ_SLEEP = KVM_REQUEST_ARCH_BASE + 0 | KVM_REQUEST_WAIT | KVM_REQUEST_NO_WAKEUP;
/** arm64: an interrupt may be pending; re-check before entering the guest. */
export const KVM_REQ_IRQ_PENDING = KVM_REQUEST_ARCH_BASE + 1;
/** arm64: reset the vCPU (PSCI CPU_ON; SBI HSM hart_start on RISC-V). */
export const KVM_REQ_VCPU_RESET = KVM_REQUEST_ARCH_BASE + 2;
/** arm64: suspend in WFI for userspace (KVM_MP_STATE_SUSPENDED). */
export const KVM_REQ_SUSPEND = KVM_REQUEST_ARCH_BASE + 6;
/**
 * Not in Linux: the request the seed 004 proposal ("An ode to
 * kvm_arch_vcpu_runnable()", item 1) adds for KVM_IRQ_LINE deasserts,
 * flagged KVM_REQUEST_NO_WAKEUP so a deassert never wakes a blocked vCPU.
 */
export const IRQLAB_REQ_IRQ_DEASSERT = KVM_REQUEST_ARCH_BASE + 15 | KVM_REQUEST_NO_WAKEUP;

/** Name of a request, for traces. */
export function requestName(req: number): string {
  if (req === KVM_REQ_OUTSIDE_GUEST_MODE) return "KVM_REQ_OUTSIDE_GUEST_MODE";
  switch (req & KVM_REQUEST_MASK) {
    case 0:
      return "KVM_REQ_TLB_FLUSH";
    case 1:
      return "KVM_REQ_VM_DEAD";
    case 2:
      return "KVM_REQ_UNBLOCK";
    case KVM_REQUEST_ARCH_BASE + 0:
      return "KVM_REQ_SLEEP";
    case KVM_REQUEST_ARCH_BASE + 1:
      return "KVM_REQ_IRQ_PENDING";
    case KVM_REQUEST_ARCH_BASE + 2:
      return "KVM_REQ_VCPU_RESET";
    case KVM_REQUEST_ARCH_BASE + 6:
      return "KVM_REQ_SUSPEND";
    case KVM_REQUEST_ARCH_BASE + 15:
      return "IRQLAB_REQ_IRQ_DEASSERT";
    default:
      return `KVM_REQ_${req & KVM_REQUEST_MASK}`;
  }
}

/** The bit a request occupies in a vCPU's request bitmap. */
export function requestBit(req: number): number {
  return 1 << (req & KVM_REQUEST_MASK);
}
