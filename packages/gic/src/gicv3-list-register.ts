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
import * as K from "./gicv3-constants.js";
import type { Gicv3HypInterface } from "./gicv3-hyp-interface.js";

// Module-local copies of imported bindings: vitest's module runner turns each use of an
// imported binding into a getter call, which would dominate the hot paths.
const { ICH_AP0Rn_EL2, ICH_AP1Rn_EL2, ICH_EISR_EL2, ICH_ELRSR_EL2, ICH_HCR_EL2, ICH_LR_EOI_HI, ICH_LR_GROUP_HI, ICH_LR_HW_HI, ICH_LR_PINTID_HI_MASK, ICH_LR_PRIORITY_HI_SHIFT, ICH_LR_STATE_HI_SHIFT, ICH_LRn_EL2, ICH_MISR_EL2, ICH_VMCR_EL2, ICH_VTR_EL2 } = K;

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
