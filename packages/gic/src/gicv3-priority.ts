/**
 * Priorities at the CPU interface: implemented priority bits, the binary
 * point and group priority, active priorities (ICC_AP0R/AP1R) and the running
 * priority.
 *
 * Spec: IHI 0069H §4.8 (interrupt prioritization), §4.8.3 (priority grouping,
 * ICC_BPR0/BPR1, CBPR), §4.8.6 (running priority), §12.2.1–12.2.2 (ICC_AP0Rn,
 * ICC_AP1Rn). Cross-check: QEMU hw/intc/arm_gicv3_cpuif.c `icc_gprio_mask()`,
 * `icc_highest_active_prio()`, `icc_drop_prio()`, `icc_min_bpr()`; Linux
 * arch/arm64/kvm/vgic/vgic-v3.c (KVM: 5 priority bits, ICH_VTR_EL2.PRIbits).
 *
 * The same arithmetic serves the physical ICC_* interface and the virtual
 * ICV_* one (whose binary points live in ICH_VMCR_EL2 and whose active
 * priorities are ICH_AP0R/AP1R).
 */

import { ConfigError } from "@irqlab/sim";

/** Priority arithmetic for a given number of implemented priority bits. */
export class PriorityModel {
  /** Mask of the implemented priority bits (KVM, 5 bits: 0xF8). */
  readonly priMask: number;
  /** Preemption bits: the group-priority levels number 2^preBits. */
  readonly preBits: number;
  /** Shift between an active-priority bit number and a priority value. */
  readonly aprShift: number;
  /** Implemented AP0R/AP1R registers (1, 2 or 4). */
  readonly aprCount: number;
  /** Minimum ICC_BPR0_EL1 value (7 − preBits); BPR1's minimum is one more. */
  readonly minBpr0: number;

  constructor(readonly priBits: number) {
    if (!Number.isInteger(priBits) || priBits < 4 || priBits > 8) {
      throw new ConfigError(`priority bits ${priBits} is not in 4..8`);
    }
    this.priMask = (0xff << (8 - priBits)) & 0xff;
    // At most 7 bits take part in preemption (§4.8.3: BPR0 is at least 0).
    this.preBits = Math.min(priBits, 7);
    this.aprShift = 8 - this.preBits;
    this.aprCount = Math.max(1, 1 << (this.preBits - 5));
    this.minBpr0 = 7 - this.preBits;
  }

  /**
   * Group-priority mask for an interrupt of group `group` given BPR0, BPR1 and
   * CBPR (QEMU `icc_gprio_mask`): group 0 uses bits [7:BPR0+1], group 1 bits
   * [7:BPR1], or BPR0's split when CBPR is set.
   */
  gprioMask(group: number, bpr0: number, bpr1: number, cbpr: boolean): number {
    let bpr: number;
    if (group === 0 || cbpr) bpr = bpr0 & 7;
    else bpr = (bpr1 & 7) - 1;
    return (0xff << (bpr + 1)) & 0xff;
  }

  /** Clamps a written binary point to its minimum (QEMU `icc_bpr_write`). */
  clampBpr(group: number, value: number): number {
    const min = group === 0 ? this.minBpr0 : this.minBpr0 + 1;
    const v = value & 7;
    return v < min ? min : v;
  }

  /**
   * Running priority from active-priority registers: the priority of the
   * lowest-numbered set bit over both groups, 0xFF when none is set.
   * `apr` holds AP0R0..3 at `base`..`base+3` and AP1R0..3 at `base+4`..`base+7`.
   */
  runningPriority(apr: Uint32Array, base: number): number {
    for (let r = 0; r < this.aprCount; r++) {
      const a = apr[base + r]! | apr[base + 4 + r]!;
      if (a !== 0) return (((r << 5) + (31 - Math.clz32(a & -a))) << this.aprShift) & 0xff;
    }
    return 0xff;
  }

  /**
   * Group (0 or 1) holding the highest active priority, or -1 when nothing is
   * active. At equal priority group 0 wins (QEMU `icc_highest_active_group`).
   */
  highestActiveGroup(apr: Uint32Array, base: number): number {
    for (let r = 0; r < this.aprCount; r++) {
      const a0 = apr[base + r]!;
      const a1 = apr[base + 4 + r]!;
      if (a0 === 0 && a1 === 0) continue;
      if (a1 === 0) return 0;
      if (a0 === 0) return 1;
      return lowBit(a0) <= lowBit(a1) ? 0 : 1;
    }
    return -1;
  }

  /** Marks group priority `gprio` active for `group` (acknowledge). */
  activate(apr: Uint32Array, base: number, group: number, gprio: number): void {
    const bit = gprio >> this.aprShift;
    apr[base + (group === 0 ? 0 : 4) + (bit >> 5)]! |= 1 << (bit & 31);
  }

  /**
   * Priority drop: clears the highest active priority of `group` and returns
   * it, or 0xFF when that group has nothing active.
   */
  drop(apr: Uint32Array, base: number, group: number): number {
    const off = base + (group === 0 ? 0 : 4);
    for (let r = 0; r < this.aprCount; r++) {
      const a = apr[off + r]!;
      if (a !== 0) {
        apr[off + r] = a & (a - 1);
        return (((r << 5) + lowBit(a)) << this.aprShift) & 0xff;
      }
    }
    return 0xff;
  }

  /**
   * EOI priority drop: if the highest active priority belongs to `group`,
   * clears it and returns the new running priority; otherwise changes nothing
   * and returns -1 (QEMU icc_eoir_write: the EOI is ignored).
   */
  dropHighest(apr: Uint32Array, base: number, group: number): number {
    if (this.aprCount === 1) {
      const a0 = apr[base]!;
      const a1 = apr[base + 4]!;
      if ((a0 | a1) === 0) return -1;
      const b0 = a0 === 0 ? 32 : lowBit(a0);
      const b1 = a1 === 0 ? 32 : lowBit(a1);
      const g = b0 <= b1 ? 0 : 1;
      if (g !== group) return -1;
      const na = g === 0 ? a0 & (a0 - 1) : a1 & (a1 - 1);
      apr[base + (g === 0 ? 0 : 4)] = na;
      const rest = (g === 0 ? na : a0) | (g === 0 ? a1 : na);
      return rest === 0 ? 0xff : (lowBit(rest) << this.aprShift) & 0xff;
    }
    if (this.highestActiveGroup(apr, base) !== group) return -1;
    this.drop(apr, base, group);
    return this.runningPriority(apr, base);
  }

  /** Mask of the writable bits of AP<g>R<n> (only 2^preBits bits exist). */
  aprWritableMask(n: number): number {
    if (n >= this.aprCount) return 0;
    return this.preBits >= 5 ? 0xffffffff : (1 << (1 << this.preBits)) - 1;
  }
}

function lowBit(word: number): number {
  return 31 - Math.clz32(word & -word);
}
