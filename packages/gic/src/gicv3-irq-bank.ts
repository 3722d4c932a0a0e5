/**
 * The per-interrupt register arrays that the distributor (SPIs) and the
 * SGI_base frame of each redistributor (SGIs and PPIs) share: IGROUPR,
 * ISENABLER/ICENABLER, ISPENDR/ICPENDR, ISACTIVER/ICACTIVER (one bit per
 * INTID), IPRIORITYR (one byte) and ICFGR (two bits).
 *
 * Spec: IHI 0069H §12.9.7 (GICD_ICACTIVER) … §12.9.22 (GICD_ISPENDR),
 * §12.11 (GICR_*0 equivalents). Cross-check: Linux
 * arch/arm64/kvm/vgic/vgic-mmio.c (`vgic_mmio_write_senable()`,
 * `vgic_mmio_write_cpending()`: a level interrupt whose line is high stays
 * pending, `vgic_mmio_write_priority()`: priority masked to the implemented
 * bits, `vgic_mmio_write_config()`: SGIs and PPIs read-only); QEMU
 * hw/intc/arm_gicv3_dist.c `gicd_writel()`.
 */

import { GIC_FIRST_PPI, GIC_FIRST_SPI } from "./gicv3-constants.js";
import type { Gicv3Core } from "./gicv3-core.js";

/** The one-bit-per-INTID registers, by their GICD offset base. */
export const BitReg = {
  IGROUPR: 0x080,
  ISENABLER: 0x100,
  ICENABLER: 0x180,
  ISPENDR: 0x200,
  ICPENDR: 0x280,
  ISACTIVER: 0x300,
  ICACTIVER: 0x380,
} as const;
/** One of the {@link BitReg} offsets. */
export type BitReg = (typeof BitReg)[keyof typeof BitReg];

/** Word index of the bits of INTIDs first..first+31 as seen by `pe`, or -1 beyond the implemented SPIs. */
function wordOf(core: Gicv3Core, pe: number, first: number): number {
  if (first >= GIC_FIRST_SPI && first >= core.nrIrqs) return -1;
  return core.irqs.index(pe, first) >>> 5;
}

/** Reads 32 bits of `reg` for INTIDs first..first+31 as seen by `pe`. */
export function readBits(core: Gicv3Core, pe: number, reg: BitReg, first: number): number {
  const s = core.irqs;
  const w = wordOf(core, pe, first);
  if (w < 0) return 0;
  switch (reg) {
    case BitReg.IGROUPR:
      return s.group[w]!;
    case BitReg.ISENABLER:
    case BitReg.ICENABLER:
      return s.enabled[w]!;
    case BitReg.ISPENDR:
    case BitReg.ICPENDR:
      return s.pendingWord(w);
    case BitReg.ISACTIVER:
    case BitReg.ICACTIVER:
      return s.active[w]!;
  }
}

/** Writes 32 bits of `reg` for INTIDs first..first+31 as seen by `pe`. */
export function writeBits(core: Gicv3Core, pe: number, reg: BitReg, first: number, value: number): void {
  const s = core.irqs;
  const w = wordOf(core, pe, first);
  if (w < 0) return;
  let arr: Uint32Array;
  let next: number;
  switch (reg) {
    case BitReg.IGROUPR:
      arr = s.group;
      next = value;
      break;
    case BitReg.ISENABLER:
      arr = s.enabled;
      next = arr[w]! | value;
      break;
    case BitReg.ICENABLER:
      arr = s.enabled;
      next = arr[w]! & ~value;
      break;
    case BitReg.ISPENDR:
      arr = s.latch;
      next = arr[w]! | value;
      break;
    case BitReg.ICPENDR:
      // Only the latch is cleared: a high level-sensitive line keeps it pending.
      arr = s.latch;
      next = arr[w]! & ~value;
      break;
    case BitReg.ISACTIVER:
      arr = s.active;
      next = arr[w]! | value;
      break;
    case BitReg.ICACTIVER:
      arr = s.active;
      next = arr[w]! & ~value;
      break;
  }
  let changed = (arr[w]! ^ next) >>> 0;
  if (changed === 0) return;
  arr[w] = next >>> 0;
  while (changed !== 0) {
    const b = 31 - Math.clz32(changed & -changed);
    changed &= changed - 1;
    if (reg === BitReg.IGROUPR) invalidateOwner(core, pe, first + b);
    core.refresh(pe, first + b);
  }
}

/**
 * Userspace (KVM_DEV_ARM_VGIC_GRP_DIST_REGS / REDIST_REGS) view of ISPENDR:
 * only the pending latch, whatever the trigger (Linux vgic-mmio-v3.c
 * `vgic_v3_uaccess_write_pending()`, Documentation/virt/kvm/devices/arm-vgic-v3.rst).
 */
export function readLatch(core: Gicv3Core, pe: number, first: number): number {
  const w = wordOf(core, pe, first);
  return w < 0 ? 0 : core.irqs.latch[w]!;
}

/** Userspace ISPENDR write: the latch of each INTID becomes the written bit. */
export function writeLatch(core: Gicv3Core, pe: number, first: number, value: number): void {
  const w = wordOf(core, pe, first);
  if (w < 0) return;
  const arr = core.irqs.latch;
  let changed = (arr[w]! ^ value) >>> 0;
  arr[w] = value >>> 0;
  while (changed !== 0) {
    const b = 31 - Math.clz32(changed & -changed);
    changed &= changed - 1;
    core.refresh(pe, first + b);
  }
}

/** Reads the priority bytes of INTIDs first..first+size−1 (size 1 or 4). */
export function readPriorities(core: Gicv3Core, pe: number, first: number, size: number): number {
  const s = core.irqs;
  let v = 0;
  for (let b = 0; b < size; b++) {
    const intid = first + b;
    if (intid >= core.nrIrqs && intid >= GIC_FIRST_SPI) break;
    v |= s.priority[s.index(pe, intid)]! << (8 * b);
  }
  return v >>> 0;
}

/** Writes priority bytes, keeping only the implemented bits (KVM: `& 0xF8`). */
export function writePriorities(core: Gicv3Core, pe: number, first: number, size: number, value: number): void {
  const s = core.irqs;
  for (let b = 0; b < size; b++) {
    const intid = first + b;
    if (intid >= core.nrIrqs && intid >= GIC_FIRST_SPI) break;
    const i = s.index(pe, intid);
    const p = (value >>> (8 * b)) & core.prio.priMask;
    if (s.priority[i] === p) continue;
    s.priority[i] = p;
    invalidateOwner(core, pe, intid);
    core.refresh(pe, intid);
  }
}

/** Reads ICFGR for INTIDs first..first+15: 0b10 per edge-triggered INTID. */
export function readConfig(core: Gicv3Core, pe: number, first: number): number {
  const s = core.irqs;
  let v = 0;
  for (let b = 0; b < 16; b++) {
    const intid = first + b;
    if (intid >= core.nrIrqs && intid >= GIC_FIRST_SPI) break;
    const i = s.index(pe, intid);
    if (((s.edge[i >>> 5]! >>> (i & 31)) & 1) === 1) v |= 2 << (2 * b);
  }
  return v >>> 0;
}

/**
 * Writes ICFGR. SGIs are always edge; PPIs are read-only in KVM (the arch timer
 * relies on level) and writable in QEMU.
 */
export function writeConfig(core: Gicv3Core, pe: number, first: number, value: number): void {
  const s = core.irqs;
  for (let b = 0; b < 16; b++) {
    const intid = first + b;
    if (intid >= core.nrIrqs && intid >= GIC_FIRST_SPI) break;
    if (intid < GIC_FIRST_PPI) continue;
    if (intid < GIC_FIRST_SPI && core.profile === "kvm") continue;
    const i = s.index(pe, intid);
    const e = (value >>> (2 * b + 1)) & 1;
    if (((s.edge[i >>> 5]! >>> (i & 31)) & 1) === e) continue;
    s.edge[i >>> 5]! ^= 1 << (i & 31);
    core.refresh(pe, intid);
  }
}

function invalidateOwner(core: Gicv3Core, pe: number, intid: number): void {
  const t = intid < GIC_FIRST_SPI ? pe : core.irqs.target[intid]!;
  if (t >= 0) core.invalidate(t);
}
