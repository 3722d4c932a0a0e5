/**
 * The VM-wide part of KVM's arm64 timers (struct arch_timer_vm_data,
 * arch/arm64/kvm/arch_timer.c): the PPI of each timer, shared by every vCPU
 * of the VM, and their freezing at the first KVM_RUN.
 *
 * - KVM_SET_DEVICE_ATTR on any vCPU, group KVM_ARM_VCPU_TIMER_CTRL
 *   (kvm_arm_timer_set_attr): EINVAL without an in-kernel irqchip, EFAULT
 *   when the value cannot be read (get_user), EINVAL for an INTID outside
 *   16..31 (irq_is_ppi), EBUSY once the PPIs are immutable, ENXIO for an
 *   unknown attribute; otherwise the VM's PPI for that timer — "We cannot
 *   validate the IRQ unicity before we run, so take it at face value".
 * - KVM_GET_DEVICE_ATTR returns it (ENXIO for an unknown attribute);
 *   KVM_HAS_DEVICE_ATTR answers 0 for the four timer attributes.
 * - KVM_SET_ONE_REG of KVM_REG_ARM_TIMER_CNT / _PTIMER_CNT (arch_timer.c
 *   kvm_arm_timer_set_reg → timer_set_offset) sets voffset / poffset to the
 *   host count minus the value, for the whole VM, unless
 *   KVM_ARM_SET_COUNTER_OFFSET was used: then the write is ignored.
 * - KVM_ARM_SET_COUNTER_OFFSET (kvm_vm_ioctl_set_counter_offset, Linux
 *   6.4+, KVM_CAP_COUNTER_OFFSET): EINVAL unless `reserved` is 0; then the
 *   offset applies to both views — CNTVCT_EL0 and CNTPCT_EL0 read the host
 *   counter minus it (voffset = poffset), and the timers compare against
 *   those. Without it the VM keeps KVM's default: the virtual counter starts
 *   at 0 at KVM_CREATE_VM, the physical one is the host's.
 * - Each vCPU's first KVM_RUN (kvm_timer_enable → timer_irqs_are_valid):
 *   with an in-kernel vgic, each timer the vCPU has (vtimer and ptimer
 *   without nested virtualization) claims its PPI on that vCPU
 *   (kvm_vgic_set_owner), in order, stopping at the first the vgic refuses:
 *   one another timer or the vPMU holds. Unless every timer claimed a PPI of
 *   its own, KVM_RUN fails with EINVAL; else KVM_ARCH_FLAG_TIMER_PPIS_IMMUTABLE
 *   is set and later KVM_SET_DEVICE_ATTR calls fail with EBUSY. Once claimed,
 *   the vCPU's timer PPIs take no injection from userspace.
 */

import type { DeviceAttr } from "../device.js";
import { fail } from "../errno.js";
import {
  DEFAULT_TIMER_PPIS,
  KVM_ARM_VCPU_TIMER_IRQ_HPTIMER,
  KVM_ARM_VCPU_TIMER_IRQ_HVTIMER,
  KVM_ARM_VCPU_TIMER_IRQ_PTIMER,
  KVM_ARM_VCPU_TIMER_IRQ_VTIMER,
  TIMER_HPTIMER,
  TIMER_HVTIMER,
  TIMER_PTIMER,
  TIMER_VTIMER,
} from "./timer-uapi.js";

/** Timers of a vCPU without nested virtualization (nr_timers()). */
const NR_EL1_TIMERS = 2;

/** struct kvm_arm_counter_offset. */
export interface KvmArmCounterOffset {
  readonly counterOffset: bigint | number;
  readonly reserved?: bigint | number;
}

/** The VM's timer PPIs and counter offset. */
export class ArchTimerVmData {
  /** kvm->arch.timer_data.ppi[], by enum kvm_arch_timers. */
  readonly ppi: number[] = [...DEFAULT_TIMER_PPIS];
  /**
   * kvm->arch.timer_data.voffset: the virtual counter is the host count minus
   * it. Undefined while it is KVM's default, the host count at KVM_CREATE_VM
   * (kvm_timer_init_vm), so that the virtual counter starts at 0 then.
   */
  voffset: bigint | undefined;
  /** kvm->arch.timer_data.poffset: the physical counter's offset; undefined while it is 0, the default. */
  poffset: bigint | undefined;
  /** KVM_ARCH_FLAG_VM_COUNTER_OFFSET: KVM_ARM_SET_COUNTER_OFFSET set both offsets; counter writes are ignored since. */
  vmCounterOffset = false;
  #immutable = false;

  /** The offset of timer `index`'s counter (TIMER_VTIMER: voffset, else poffset), undefined while it is the default. */
  offset(index: number): bigint | undefined {
    return index === TIMER_VTIMER ? this.voffset : this.poffset;
  }

  /** kvm_vm_ioctl_set_counter_offset: EINVAL for a non-zero `reserved` or an offset that is not a u64. */
  setCounterOffset(o: KvmArmCounterOffset): void {
    const io = "KVM_ARM_SET_COUNTER_OFFSET";
    if (BigInt(o.reserved ?? 0) !== 0n) fail("EINVAL", io, "reserved must be 0");
    const off = BigInt(o.counterOffset);
    if (off < 0n || off >= 1n << 64n) fail("EINVAL", io, `counter_offset ${off} is not a u64`);
    this.voffset = off;
    this.poffset = off;
    this.vmCounterOffset = true;
  }

  /**
   * timer_set_offset for timer `index`'s counter: the VM-wide voffset or
   * poffset (timer_context_init points every vCPU's timers at them).
   */
  setTimerOffset(index: number, offset: bigint): void {
    const off = BigInt.asUintN(64, offset);
    if (index === TIMER_VTIMER) this.voffset = off;
    else this.poffset = off;
  }

  /**
   * Whether the guest's CNTP_* and CNTPCT_EL0 accesses trap: a non-zero
   * physical offset on a host without FEAT_ECV's CNTPOFF_EL2 (timer_set_traps:
   * `!has_cntpoff() && timer_get_offset(direct_ptimer)` → EL1PCEN and
   * EL1PCTEN cleared). The model's host is the Neoverse N1 Ampere Altra of the
   * cost model, an Armv8.2 core without FEAT_ECV.
   */
  get physicalTraps(): boolean {
    return this.poffset !== undefined && this.poffset !== 0n;
  }

  /** KVM_ARCH_FLAG_TIMER_PPIS_IMMUTABLE. */
  get immutable(): boolean {
    return this.#immutable;
  }

  /** kvm_arm_timer_set_attr. `inKernelIrqchip`: the VM has a vgic. */
  setAttr(a: DeviceAttr, inKernelIrqchip: boolean): void {
    const io = "KVM_SET_DEVICE_ATTR";
    if (!inKernelIrqchip) fail("EINVAL", io, "timer PPIs need an in-kernel irqchip");
    const irq = a.value;
    if (typeof irq !== "number" || !Number.isInteger(irq)) fail("EFAULT", io, `timer PPI ${String(irq)} cannot be read as an int`);
    if (irq < 16 || irq > 31) fail("EINVAL", io, `timer interrupt ${irq} is not a PPI (16..31)`);
    if (this.#immutable) fail("EBUSY", io, "the timer PPIs are immutable once a vCPU has run");
    this.ppi[attrIndex(a, io)] = irq;
  }

  /** kvm_arm_timer_get_attr. */
  getAttr(a: DeviceAttr): number {
    return this.ppi[attrIndex(a, "KVM_GET_DEVICE_ATTR")]!;
  }

  /** kvm_arm_timer_has_attr. */
  hasAttr(a: DeviceAttr): void {
    attrIndex(a, "KVM_HAS_DEVICE_ATTR");
  }

  /**
   * kvm_timer_enable at a vCPU's first KVM_RUN, with an in-kernel vgic whose
   * kvm_vgic_set_owner is `claim(ppi, timer)` (true when granted): each timer
   * claims its PPI in turn, up to the first refusal; EINVAL unless every
   * timer got a PPI of its own; then the PPIs are frozen.
   */
  enable(claim: (ppi: number, timer: number) => boolean): void {
    let ppis = 0;
    for (let i = 0; i < NR_EL1_TIMERS; i++) {
      const ppi = this.ppi[i]!;
      if (!claim(ppi, i)) break;
      ppis |= 1 << ppi;
    }
    let n = 0;
    for (let b = ppis; b !== 0; b &= b - 1) n++;
    if (n !== NR_EL1_TIMERS) {
      fail("EINVAL", "KVM_RUN", `timer PPIs vtimer ${this.ppi[TIMER_VTIMER]} and ptimer ${this.ppi[TIMER_PTIMER]} must differ, and be no other device's`);
    }
    this.#immutable = true;
  }
}

function attrIndex(a: DeviceAttr, io: string): number {
  switch (Number(a.attr)) {
    case KVM_ARM_VCPU_TIMER_IRQ_VTIMER:
      return TIMER_VTIMER;
    case KVM_ARM_VCPU_TIMER_IRQ_PTIMER:
      return TIMER_PTIMER;
    case KVM_ARM_VCPU_TIMER_IRQ_HVTIMER:
      return TIMER_HVTIMER;
    case KVM_ARM_VCPU_TIMER_IRQ_HPTIMER:
      return TIMER_HPTIMER;
    default:
      return fail("ENXIO", io, `unknown timer attribute ${a.attr}`);
  }
}
