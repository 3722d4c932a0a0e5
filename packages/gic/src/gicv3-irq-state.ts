/**
 * Per-INTID state of SGIs, PPIs and SPIs: enable, pending latch, line level,
 * active, group, priority, trigger and SPI routing, as typed arrays.
 *
 * Spec: IHI 0069H §4.1 (interrupt lifecycle: inactive, pending, active,
 * active and pending), §4.1.2 (level and edge pending state), §9.2.2
 * (GICD_IROUTER). The split of the pending state into a latch and a line level
 * follows Linux `struct vgic_irq` (`pending_latch`, `line_level`;
 * arch/arm64/kvm/vgic/vgic.h `irq_is_pending()`); cross-check: QEMU
 * hw/intc/arm_gicv3_common.c (reset values).
 *
 * Layout: SPI INTID n lives at index n; the 32 private INTIDs of PE p live at
 * index nrIrqs + 32·p + intid. Indices 0..31 of the shared part are unused.
 */

import { ConfigError } from "@irqlab/sim";
import { GIC_FIRST_SPI } from "./gicv3-constants.js";

/** Which implementation's choices the model follows where KVM and QEMU differ. */
export type Gicv3Profile = "kvm" | "qemu";

/** Snapshot of {@link IrqState}: bit arrays as 32-bit words, priorities as bytes. */
export interface IrqStateSnapshot {
  readonly enabled: number[];
  readonly latch: number[];
  readonly level: number[];
  readonly active: number[];
  readonly group: number[];
  readonly edge: number[];
  readonly priority: number[];
  readonly irouter: number[];
}

/**
 * Typed-array storage of the SGI/PPI/SPI state. One-bit properties are bit
 * arrays of 32-bit words (bit i of word i >> 5), so that a 32-bit register
 * such as GICD_ISPENDR<n> is one word operation.
 */
export class IrqState {
  readonly enabled: Uint32Array;
  /** Software/edge pending latch (`pending_latch`). */
  readonly latch: Uint32Array;
  /** Input line level (`line_level`). */
  readonly level: Uint32Array;
  readonly active: Uint32Array;
  /** 1 = group 1. */
  readonly group: Uint32Array;
  /** 1 = edge-triggered, 0 = level-sensitive. */
  readonly edge: Uint32Array;
  readonly priority: Uint8Array;
  /** GICD_IROUTER low word (Aff2.Aff1.Aff0), SPIs only. */
  readonly irouter: Uint32Array;
  /** Resolved target PE of each SPI, -1 when IROUTER names no PE. */
  readonly target: Int32Array;

  constructor(
    readonly cpus: number,
    readonly nrIrqs: number,
    readonly profile: Gicv3Profile,
  ) {
    if (!Number.isInteger(nrIrqs) || nrIrqs < 64 || nrIrqs > 1024 || nrIrqs % 32 !== 0) {
      throw new ConfigError(`nrIrqs ${nrIrqs} is not a multiple of 32 in 64..1024`);
    }
    const n = nrIrqs + cpus * 32;
    const words = n >>> 5;
    this.enabled = new Uint32Array(words);
    this.latch = new Uint32Array(words);
    this.level = new Uint32Array(words);
    this.active = new Uint32Array(words);
    this.group = new Uint32Array(words);
    this.edge = new Uint32Array(words);
    this.priority = new Uint8Array(n);
    this.irouter = new Uint32Array(nrIrqs);
    this.target = new Int32Array(nrIrqs).fill(-1);
    this.reset();
  }

  /** Index of `intid` as seen by `pe` (private INTIDs are banked). */
  index(pe: number, intid: number): number {
    return intid < GIC_FIRST_SPI ? this.nrIrqs + pe * 32 + intid : intid;
  }

  /** Pending bits of word `w`: latch, or a high level-sensitive line. */
  pendingWord(w: number): number {
    return (this.latch[w]! | (this.level[w]! & ~this.edge[w]!)) >>> 0;
  }

  /**
   * Reset values. KVM (vgic-init.c kvm_vgic_dist_init,
   * vgic_allocate_private_irqs_locked): everything group 1, SGIs enabled and
   * edge, PPIs level, SPIs edge and disabled, priority 0. QEMU
   * (arm_gicv3_common.c arm_gicv3_common_reset_hold): group 0, all disabled,
   * SGIs edge, PPIs and SPIs level.
   */
  reset(): void {
    const kvm = this.profile === "kvm";
    for (const a of [this.enabled, this.latch, this.level, this.active]) a.fill(0);
    this.priority.fill(0);
    this.group.fill(kvm ? 0xffffffff : 0);
    this.edge.fill(kvm ? 0xffffffff : 0);
    this.irouter.fill(0);
    for (let pe = 0; pe < this.cpus; pe++) {
      const w = (this.nrIrqs >>> 5) + pe;
      this.edge[w] = 0xffff; // SGIs edge, PPIs level
      this.enabled[w] = kvm ? 0xffff : 0;
    }
  }

  /** Plain copy for snapshots. */
  state(): IrqStateSnapshot {
    return {
      enabled: Array.from(this.enabled),
      latch: Array.from(this.latch),
      level: Array.from(this.level),
      active: Array.from(this.active),
      group: Array.from(this.group),
      edge: Array.from(this.edge),
      priority: Array.from(this.priority),
      irouter: Array.from(this.irouter),
    };
  }

  /** Loads a snapshot taken from a state of the same shape. */
  load(s: IrqStateSnapshot): void {
    const pairs: [Uint8Array | Uint32Array, readonly number[], string][] = [
      [this.enabled, s.enabled, "enabled"],
      [this.latch, s.latch, "latch"],
      [this.level, s.level, "level"],
      [this.active, s.active, "active"],
      [this.group, s.group, "group"],
      [this.edge, s.edge, "edge"],
      [this.priority, s.priority, "priority"],
      [this.irouter, s.irouter, "irouter"],
    ];
    for (const [dst, src, name] of pairs) {
      if (src.length !== dst.length) {
        throw new ConfigError(`snapshot field '${name}' has ${src.length} entries, expected ${dst.length}`);
      }
      dst.set(src);
    }
  }
}
