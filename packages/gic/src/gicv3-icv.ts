/**
 * The virtual CPU interface (ICV_*): what a guest's ICC_* accesses do while
 * it runs under a hypervisor interface, on the list registers, ICH_VMCR_EL2,
 * the virtual active priorities, and GICv4.1 directly injected vLPIs.
 *
 * Spec: IHI 0069H §6.3 (virtual CPU interface), §12.3 (ICV_* registers:
 * ICV_IAR1_EL1 §12.3.13, ICV_EOIR1_EL1 §12.3.11, ICV_DIR_EL1 §12.3.7,
 * ICV_HPPIR1_EL1 §12.3.12, ICV_RPR_EL1 §12.3.18). Cross-check: QEMU
 * hw/intc/arm_gicv3_cpuif.c (`icv_iar_read()`, `icv_eoir_write()`: the
 * priority is dropped before the INTID is checked, an EOI matching no LR
 * increments ICH_HCR_EL2.EOIcount unless it is an LPI; `icv_dir_write()`).
 *
 * ICV accesses use the ICC_* encodings, as the hardware redirects them; SGI
 * generation (ICC_SGI1R_EL1 …) traps to the hypervisor and is not served here.
 */

import type { WideValue } from "@irqlab/sim";
import {
  ICC_AP0Rn_EL1, ICC_AP1Rn_EL1, ICC_BPR0_EL1, ICC_BPR1_EL1, ICC_CTLR_EL1, ICC_CTLR_EL1_A3V, ICC_DIR_EL1,
  ICC_EOIR0_EL1, ICC_EOIR1_EL1, ICC_HPPIR0_EL1, ICC_HPPIR1_EL1, ICC_IAR0_EL1, ICC_IAR1_EL1, ICC_IGRPEN0_EL1,
  ICC_IGRPEN1_EL1, ICC_PMR_EL1, ICC_RPR_EL1, ICH_VMCR_EL2_VBPR0_SHIFT, ICH_VMCR_EL2_VBPR1_SHIFT, ICH_VMCR_EL2_VCBPR,
  ICH_VMCR_EL2_VENG0, ICH_VMCR_EL2_VENG1, ICH_VMCR_EL2_VEOIM, ICH_VMCR_EL2_VPMR_SHIFT, INTID_SPURIOUS, GIC_FIRST_LPI,
} from "./gicv3-constants.js";
import type { Gicv3HypInterface } from "./gicv3-hyp-interface.js";

/** hppvi() result standing for the resident vPE's direct vLPI. */
export const HPPVI_VLPI = -2;

const ICV_SET = new Set([
  ICC_IAR0_EL1,
  ICC_IAR1_EL1,
  ICC_EOIR0_EL1,
  ICC_EOIR1_EL1,
  ICC_HPPIR0_EL1,
  ICC_HPPIR1_EL1,
  ICC_DIR_EL1,
  ICC_RPR_EL1,
  ICC_PMR_EL1,
  ICC_BPR0_EL1,
  ICC_BPR1_EL1,
  ICC_CTLR_EL1,
  ICC_IGRPEN0_EL1,
  ICC_IGRPEN1_EL1,
]);

/** Whether `reg` is an ICC encoding served by the virtual CPU interface of `h`. */
export function icvHandles(h: Gicv3HypInterface, reg: number): boolean {
  return aprIndex(h, reg) >= 0 || ICV_SET.has(reg);
}

/** A guest MRS of `reg` under hypervisor interface `h`. */
export function icvRead(h: Gicv3HypInterface, reg: number, wide?: WideValue): number {
  if (wide) wide.hi = 0;
  const v = h.vmcr;
  switch (reg) {
    case ICC_IAR1_EL1:
      return acknowledge(h, 1);
    case ICC_IAR0_EL1:
      return acknowledge(h, 0);
    case ICC_HPPIR1_EL1:
    case ICC_HPPIR0_EL1: {
      const g = reg === ICC_HPPIR1_EL1 ? 1 : 0;
      const idx = h.hppvi();
      if (idx === -1) return INTID_SPURIOUS;
      if (idx === HPPVI_VLPI) return g === 1 ? h.hppvlpi : INTID_SPURIOUS;
      return h.lrGroup(idx) === g ? h.lrLo[idx]! : INTID_SPURIOUS;
    }
    case ICC_RPR_EL1:
      return h.runningPriority();
    case ICC_PMR_EL1:
      return v >>> ICH_VMCR_EL2_VPMR_SHIFT;
    case ICC_BPR0_EL1:
      return (v >>> ICH_VMCR_EL2_VBPR0_SHIFT) & 7;
    case ICC_BPR1_EL1:
      return (v & ICH_VMCR_EL2_VCBPR) !== 0
        ? Math.min(((v >>> ICH_VMCR_EL2_VBPR0_SHIFT) & 7) + 1, 7)
        : (v >>> ICH_VMCR_EL2_VBPR1_SHIFT) & 7;
    case ICC_CTLR_EL1:
      return (
        (((v & ICH_VMCR_EL2_VCBPR) !== 0 ? 1 : 0) |
          ((v & ICH_VMCR_EL2_VEOIM) !== 0 ? 2 : 0) |
          ((h.prio.priBits - 1) << 8) |
          ICC_CTLR_EL1_A3V) >>>
        0
      );
    case ICC_IGRPEN0_EL1:
      return v & ICH_VMCR_EL2_VENG0;
    case ICC_IGRPEN1_EL1:
      return (v & ICH_VMCR_EL2_VENG1) >>> 1;
    default:
      break;
  }
  const a = aprIndex(h, reg);
  if (a >= 0) return h.apr[a]!;
  h.guestError(`read of ICV register 0x${reg.toString(16)} not readable through the virtual interface`);
  return 0;
}

/** A guest MSR of `reg` under hypervisor interface `h`. */
export function icvWrite(h: Gicv3HypInterface, reg: number, value: number): void {
  const v = h.vmcr;
  switch (reg) {
    case ICC_EOIR1_EL1:
      eoi(h, 1, value);
      return;
    case ICC_EOIR0_EL1:
      eoi(h, 0, value);
      return;
    case ICC_DIR_EL1:
      dir(h, value);
      return;
    case ICC_PMR_EL1:
      h.writeVmcr((v & 0x00ffffff) | ((value & 0xff) << ICH_VMCR_EL2_VPMR_SHIFT));
      return;
    case ICC_BPR0_EL1:
      h.writeVmcr((v & ~(7 << ICH_VMCR_EL2_VBPR0_SHIFT)) | ((value & 7) << ICH_VMCR_EL2_VBPR0_SHIFT));
      return;
    case ICC_BPR1_EL1:
      if ((v & ICH_VMCR_EL2_VCBPR) === 0) {
        h.writeVmcr((v & ~(7 << ICH_VMCR_EL2_VBPR1_SHIFT)) | ((value & 7) << ICH_VMCR_EL2_VBPR1_SHIFT));
      }
      return;
    case ICC_CTLR_EL1:
      h.writeVmcr(
        (v & ~(ICH_VMCR_EL2_VCBPR | ICH_VMCR_EL2_VEOIM)) |
          ((value & 1) !== 0 ? ICH_VMCR_EL2_VCBPR : 0) |
          ((value & 2) !== 0 ? ICH_VMCR_EL2_VEOIM : 0),
      );
      return;
    case ICC_IGRPEN0_EL1:
      h.writeVmcr((v & ~ICH_VMCR_EL2_VENG0) | (value & 1));
      return;
    case ICC_IGRPEN1_EL1:
      h.writeVmcr((v & ~ICH_VMCR_EL2_VENG1) | ((value & 1) << 1));
      return;
    default:
      break;
  }
  const a = aprIndex(h, reg);
  if (a >= 0) {
    h.writeApr(a >> 2, a & 3, value);
    return;
  }
  h.guestError(`write of ICV register 0x${reg.toString(16)} not writable through the virtual interface`);
}

/** ICV_IAR<g>_EL1: the highest-priority pending LR or direct vLPI, if it is of group `g` and may preempt. */
function acknowledge(h: Gicv3HypInterface, g: number): number {
  const idx = h.hppvi();
  if (idx === -1) return INTID_SPURIOUS;
  const grp = idx === HPPVI_VLPI ? 1 : h.lrGroup(idx);
  const prio = h.hppviPrio(idx);
  if (grp !== g || !h.canPreempt(prio, g)) return INTID_SPURIOUS;
  h.prio.activate(h.apr, 0, g, prio & h.gprioMask(g));
  let intid: number;
  if (idx === HPPVI_VLPI) {
    intid = h.hppvlpi;
    h.directVlpi!.acknowledgeVlpi(intid);
  } else {
    intid = h.lrLo[idx]!;
    h.activateLr(idx);
  }
  h.update();
  return intid;
}

/** ICV_EOIR<g>_EL1. */
function eoi(h: Gicv3HypInterface, g: number, value: number): void {
  const intid = value & 0xffffff;
  if (intid >= 1020 && intid <= 1023) return;
  // QEMU's IMPDEF choice: drop the priority before any check of the INTID.
  const grp = h.prio.highestActiveGroup(h.apr, 0);
  if (grp < 0) {
    h.guestError(`EOIR${g} of vINTID ${intid} with no active priority`);
    return;
  }
  const dropped = h.prio.drop(h.apr, 0, grp);
  const split = (h.vmcr & ICH_VMCR_EL2_VEOIM) !== 0;
  const idx = h.findActive(intid);
  if (idx < 0) {
    // No LR holds it: EOIcount counts a deactivation that could not happen (ICH_HCR_EL2.EOIcount:
    // "would have resulted in a virtual interrupt deactivation"), so not with VEOIM = 1 and not
    // for vLPIs. QEMU also counts with VEOIM = 1.
    if (intid < GIC_FIRST_LPI && !split) h.incrementEoiCount();
  } else if (h.lrGroup(idx) === g && (h.lrPrio(idx) & h.gprioMask(g)) === dropped && (!split || intid >= GIC_FIRST_LPI)) {
    // LPIs have no active state: an LR holding a vLPI is deactivated even with VEOIM = 1
    // (QEMU commit 82a65e3188ab, "LPIs get stuck in a bogus Active+Pending state").
    h.deactivateLr(idx);
  }
  h.update();
}

/** ICV_DIR_EL1: deactivation, effective only with VEOIM = 1. */
function dir(h: Gicv3HypInterface, value: number): void {
  const intid = value & 0xffffff;
  if (intid >= 1020 && intid <= 1023) return;
  if ((h.vmcr & ICH_VMCR_EL2_VEOIM) === 0) {
    h.guestError(`DIR of vINTID ${intid} with VEOIM 0 ignored`);
    return;
  }
  const idx = h.findActive(intid);
  if (idx < 0) h.incrementEoiCount();
  else h.deactivateLr(idx);
  h.update();
}

/** 0..3 for ICV_AP0R0..3, 4..7 for ICV_AP1R0..3 (implemented ones only), -1 otherwise. */
function aprIndex(h: Gicv3HypInterface, reg: number): number {
  for (let n = 0; n < h.prio.aprCount; n++) {
    if (reg === ICC_AP0Rn_EL1(n)) return n;
    if (reg === ICC_AP1Rn_EL1(n)) return 4 + n;
  }
  return -1;
}
