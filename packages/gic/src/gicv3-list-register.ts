/**
 * List-register encoding and the ICH_*_EL2 system-register view of a
 * hypervisor interface.
 *
 * Spec: IHI 0069H §12.4.6 (ICH_LR<n>_EL2: vINTID [31:0], pINTID [41:32] when
 * HW = 1, EOI [41] when HW = 0, Priority [55:48], Group [60], HW [61], State
 * [63:62]), §12.4 (ICH_HCR/VTR/MISR/EISR/ELRSR/VMCR, ICH_AP0R/AP1R).
 * Cross-check: Linux include/linux/irqchip/arm-gic-v3.h (ICH_LR_* fields),
 * arch/arm64/kvm/vgic/vgic-v3.c `vgic_v3_populate_lr()`; QEMU
 * hw/intc/gicv3_internal.h.
 */

import type { WideValue } from "@irqlab/sim";
import {
  ICH_AP0Rn_EL2, ICH_AP1Rn_EL2, ICH_EISR_EL2, ICH_ELRSR_EL2, ICH_HCR_EL2, ICH_LR_EOI_HI, ICH_LR_GROUP_HI,
  ICH_LR_HW_HI, ICH_LR_PINTID_HI_MASK, ICH_LR_PRIORITY_HI_SHIFT, ICH_LR_STATE_HI_SHIFT, ICH_LRn_EL2, ICH_MISR_EL2,
  ICH_VMCR_EL2, ICH_VTR_EL2, ICH_HCR_EL2_EOIcount_SHIFT, ICH_HCR_EL2_LRENPIE, ICH_HCR_EL2_NPIE, ICH_HCR_EL2_UIE,
  ICH_HCR_EL2_VGrp0DIE, ICH_HCR_EL2_VGrp0EIE, ICH_HCR_EL2_VGrp1DIE, ICH_HCR_EL2_VGrp1EIE, ICH_LR_STATE_ACTIVE,
  ICH_LR_STATE_PENDING, ICH_MISR_EL2_EOI, ICH_MISR_EL2_LRENP, ICH_MISR_EL2_NP, ICH_MISR_EL2_U, ICH_MISR_EL2_VGrp0D,
  ICH_MISR_EL2_VGrp0E, ICH_MISR_EL2_VGrp1D, ICH_MISR_EL2_VGrp1E, ICH_VMCR_EL2_VENG0, ICH_VMCR_EL2_VENG1,
} from "./gicv3-constants.js";
import type { Gicv3HypInterface } from "./gicv3-hyp-interface.js";

/** The fields of a list register. */
export interface ListRegister {
  /** vINTID. */
  readonly vintid: number;
  /** ICH_LR_STATE_* (0 invalid, 1 pending, 2 active, 3 pending and active). */
  readonly state: number;
  /** 8-bit priority. */
  readonly priority: number;
  /** 0 or 1. */
  readonly group: number;
  /** The LR is linked to a physical interrupt (`pintid`). */
  readonly hw: boolean;
  /** Physical INTID when `hw` (10 bits). */
  readonly pintid: number;
  /** Maintenance interrupt on EOI (only when !hw; KVM sets it for level interrupts). */
  readonly eoi: boolean;
}

/** Encodes a list register; writes the high word to `wide.hi` and returns the low word. */
export function encodeLr(lr: ListRegister, wide: WideValue): number {
  let hi = ((lr.state & 3) << ICH_LR_STATE_HI_SHIFT) | ((lr.priority & 0xff) << ICH_LR_PRIORITY_HI_SHIFT);
  if (lr.group !== 0) hi |= ICH_LR_GROUP_HI;
  if (lr.hw) hi |= ICH_LR_HW_HI | (lr.pintid & ICH_LR_PINTID_HI_MASK);
  else if (lr.eoi) hi |= ICH_LR_EOI_HI;
  wide.hi = hi >>> 0;
  return lr.vintid >>> 0;
}

/** Decodes a list register from its two words. */
export function decodeLr(lo: number, hi: number): ListRegister {
  const hw = (hi & ICH_LR_HW_HI) !== 0;
  return {
    vintid: lo >>> 0,
    state: hi >>> ICH_LR_STATE_HI_SHIFT,
    priority: (hi >>> ICH_LR_PRIORITY_HI_SHIFT) & 0xff,
    group: (hi & ICH_LR_GROUP_HI) !== 0 ? 1 : 0,
    hw,
    pintid: hw ? hi & ICH_LR_PINTID_HI_MASK : 0,
    eoi: !hw && (hi & ICH_LR_EOI_HI) !== 0,
  };
}

/**
 * What a hypervisor interface needs to know about its LRs, from one pass over
 * them (§12.4.7 ICH_MISR_EL2 conditions EOI/U/NP, §12.4.3 ICH_EISR_EL2,
 * §12.4.4 ICH_ELRSR_EL2, §6.3 the highest-priority pending LR). The interface
 * rescans after every LR change, so an ICV access or an output update costs no
 * LR scan.
 */
export class LrSummary {
  /** Highest-priority pending LR of group 0 / group 1 (lowest index on ties), -1 when none. */
  pend0 = -1;
  pend1 = -1;
  /** Their priorities, masked to the implemented bits (0x100 when none). */
  prio0 = 0x100;
  prio1 = 0x100;
  /** Number of LRs whose state is not invalid. */
  valid = 0;
  /** Bit n: LR n is active or pending and active. */
  active = 0;
  /** ICH_EISR_EL2: state invalid, HW = 0, EOI = 1. */
  eisr = 0;
  /** ICH_ELRSR_EL2: state invalid and not an EISR entry. */
  elrsr = 0;

  /** Recomputes every field from the LRs' high words. */
  scan(lrHi: Uint32Array, priMask: number): void {
    let p0 = -1;
    let p1 = -1;
    let bp0 = 0x100;
    let bp1 = 0x100;
    let valid = 0;
    let active = 0;
    let eisr = 0;
    let elrsr = 0;
    for (let i = 0; i < lrHi.length; i++) {
      const hi = lrHi[i]!;
      const st = hi >>> ICH_LR_STATE_HI_SHIFT;
      if (st === 0) {
        if ((hi & (ICH_LR_EOI_HI | ICH_LR_HW_HI)) === ICH_LR_EOI_HI) eisr |= 1 << i;
        else elrsr |= 1 << i;
        continue;
      }
      valid++;
      if ((st & ICH_LR_STATE_ACTIVE) !== 0) active |= 1 << i;
      if (st !== ICH_LR_STATE_PENDING) continue;
      const p = (hi >>> ICH_LR_PRIORITY_HI_SHIFT) & priMask;
      if ((hi & ICH_LR_GROUP_HI) !== 0) {
        if (p < bp1) {
          bp1 = p;
          p1 = i;
        }
      } else if (p < bp0) {
        bp0 = p;
        p0 = i;
      }
    }
    this.pend0 = p0;
    this.pend1 = p1;
    this.prio0 = bp0;
    this.prio1 = bp1;
    this.valid = valid;
    this.active = active;
    this.eisr = eisr >>> 0;
    this.elrsr = elrsr >>> 0;
  }

  /** ICH_MISR_EL2 for these LRs under ICH_HCR_EL2 `hcr` and ICH_VMCR_EL2 `vmcr`. */
  misr(hcr: number, vmcr: number): number {
    let m = this.eisr !== 0 ? ICH_MISR_EL2_EOI : 0;
    if ((hcr & ICH_HCR_EL2_UIE) !== 0 && this.valid < 2) m |= ICH_MISR_EL2_U;
    if ((hcr & ICH_HCR_EL2_LRENPIE) !== 0 && hcr >>> ICH_HCR_EL2_EOIcount_SHIFT !== 0) m |= ICH_MISR_EL2_LRENP;
    if ((hcr & ICH_HCR_EL2_NPIE) !== 0 && this.pend0 < 0 && this.pend1 < 0) m |= ICH_MISR_EL2_NP;
    const eng0 = (vmcr & ICH_VMCR_EL2_VENG0) !== 0;
    const eng1 = (vmcr & ICH_VMCR_EL2_VENG1) !== 0;
    if ((hcr & ICH_HCR_EL2_VGrp0EIE) !== 0 && eng0) m |= ICH_MISR_EL2_VGrp0E;
    if ((hcr & ICH_HCR_EL2_VGrp0DIE) !== 0 && !eng0) m |= ICH_MISR_EL2_VGrp0D;
    if ((hcr & ICH_HCR_EL2_VGrp1EIE) !== 0 && eng1) m |= ICH_MISR_EL2_VGrp1E;
    if ((hcr & ICH_HCR_EL2_VGrp1DIE) !== 0 && !eng1) m |= ICH_MISR_EL2_VGrp1D;
    return m;
  }
}

/** Index of LR `reg` (ICH_LR<n>_EL2), or -1. */
function lrIndex(hyp: Gicv3HypInterface, reg: number): number {
  for (let n = 0; n < hyp.listRegisters; n++) if (ICH_LRn_EL2(n) === reg) return n;
  return -1;
}

/** Index 0..7 (AP0R0..3, AP1R0..3) of an implemented ICH_AP<g>R<n>_EL2, or -1. */
function aprIndex(hyp: Gicv3HypInterface, reg: number): number {
  for (let n = 0; n < hyp.prio.aprCount; n++) {
    if (reg === ICH_AP0Rn_EL2(n)) return n;
    if (reg === ICH_AP1Rn_EL2(n)) return 4 + n;
  }
  return -1;
}

/** Whether `reg` is an implemented ICH_*_EL2 register of `hyp`. */
export function isIchRegister(hyp: Gicv3HypInterface, reg: number): boolean {
  switch (reg) {
    case ICH_HCR_EL2:
    case ICH_VTR_EL2:
    case ICH_MISR_EL2:
    case ICH_EISR_EL2:
    case ICH_ELRSR_EL2:
    case ICH_VMCR_EL2:
      return true;
    default:
      return lrIndex(hyp, reg) >= 0 || aprIndex(hyp, reg) >= 0;
  }
}

/** MRS of an ICH_*_EL2 register; returns the low word, the high word in `wide.hi`. Unknown: 0. */
export function readIch(hyp: Gicv3HypInterface, reg: number, wide: WideValue): number {
  wide.hi = 0;
  switch (reg) {
    case ICH_HCR_EL2:
      return hyp.hcr;
    case ICH_VTR_EL2:
      return hyp.vtr;
    case ICH_MISR_EL2:
      return hyp.misr;
    case ICH_EISR_EL2:
      return hyp.eisr;
    case ICH_ELRSR_EL2:
      return hyp.elrsr;
    case ICH_VMCR_EL2:
      return hyp.vmcr;
    default:
      break;
  }
  const lr = lrIndex(hyp, reg);
  if (lr >= 0) {
    wide.hi = hyp.lrHi[lr]!;
    return hyp.lrLo[lr]!;
  }
  const a = aprIndex(hyp, reg);
  return a >= 0 ? hyp.apr[a]! : 0;
}

/**
 * MSR of an ICH_*_EL2 register. Returns false for an encoding that is not a
 * writable, implemented ICH register (the caller decides what that means at EL2).
 */
export function writeIch(hyp: Gicv3HypInterface, reg: number, lo: number, hi: number): boolean {
  switch (reg) {
    case ICH_HCR_EL2:
      hyp.writeHcr(lo);
      return true;
    case ICH_VMCR_EL2:
      hyp.writeVmcr(lo);
      return true;
    default:
      break;
  }
  const lr = lrIndex(hyp, reg);
  if (lr >= 0) {
    hyp.writeLr(lr, lo, hi);
    return true;
  }
  const a = aprIndex(hyp, reg);
  if (a >= 0) {
    hyp.writeApr(a >> 2, a & 3, lo);
    return true;
  }
  return false;
}
