/**
 * QEMU's memory core between a guest access and a device's MemoryRegionOps,
 * as far as it changes what the device sees. Under KVM every MMIO exit goes
 * through address_space_rw() (accel/kvm/kvm-all.c kvm_cpu_exec, case
 * KVM_EXIT_MMIO), so a QEMU device never sees the access the guest made but
 * the pieces this produces:
 *
 * 1. system/physmem.c flatview_read_continue / flatview_write_continue cut
 *    the access into pieces with memory_access_size(): at most
 *    `valid.max_access_size` bytes (4 when it is 0: "Regions are assumed to
 *    support 1-4 byte accesses unless otherwise specified"), no larger than
 *    the alignment of the offset unless `impl.unaligned`, rounded down to a
 *    power of two. So an unaligned 4-byte access becomes 1 + 2 + 1 bytes and
 *    an 8-byte access to a region without `valid.max_access_size` two 4s.
 * 2. system/memory.c memory_region_dispatch_read/write check each piece with
 *    memory_region_access_valid(): rejected by `valid.accepts` (the
 *    unassigned region rejects everything), unaligned without
 *    `valid.unaligned`, or outside [valid.min, valid.max] unless valid.max is
 *    0 ("Treat zero as compatibility all valid"). QEMU logs an invalid piece
 *    as a guest error ("Invalid read at addr …, size …, region …, reason: …"),
 *    a read of it returns 0 (unassigned_mem_read) and a write is dropped.
 * 3. access_with_adjusted_size() calls the device at
 *    max(min(size, impl.max), impl.min) bytes per call (impl.max 0 means 4,
 *    impl.min 0 means 1), little-endian: a 1-byte load of a PL011 register
 *    (impl 4..4) is a 4-byte device read at the unaligned offset of which the
 *    low byte is kept; an 8-byte load of an MSI-X entry (impl max 4) is two
 *    4-byte device reads.
 *
 * The functions here do all three without allocating. Device callbacks deal
 * in unsigned 32-bit values; a device whose impl.max is 8 (serial-mm) only
 * ever has 8-bit registers behind it, so nothing is lost.
 */

import type { WideValue } from "@irqlab/sim";

/** The access-size fields of a QEMU MemoryRegionOps (include/exec/memory.h). */
export interface QemuAccessRules {
  /** valid.min_access_size (0: no minimum). */
  readonly validMin: number;
  /** valid.max_access_size (0: every size valid, pieces of at most 4 bytes). */
  readonly validMax: number;
  /** valid.unaligned. */
  readonly validUnaligned: boolean;
  /** valid.accepts rejects every access (io_mem_unassigned's unassigned_mem_accepts). */
  readonly rejectAll: boolean;
  /** impl.min_access_size (0 means 1). */
  readonly implMin: number;
  /** impl.max_access_size (0 means 4). */
  readonly implMax: number;
  /** impl.unaligned. */
  readonly implUnaligned: boolean;
  /**
   * Derived by {@link qemuAccessRules}: bit s (1, 2, 4) set when an aligned
   * access of s bytes is a single valid piece that reaches the device as
   * one call of s bytes, so the memory core has nothing to cut or widen.
   */
  readonly wholeSizes: number;
}

/** The fields of {@link QemuAccessRules} a MemoryRegionOps sets. */
export type QemuAccessFields = Omit<QemuAccessRules, "wholeSizes">;

/** Builds {@link QemuAccessRules}; omitted fields are 0/false as in a C initializer. */
export function qemuAccessRules(r: Partial<QemuAccessFields>): QemuAccessRules {
  const fields: QemuAccessFields = {
    validMin: r.validMin ?? 0,
    validMax: r.validMax ?? 0,
    validUnaligned: r.validUnaligned ?? false,
    rejectAll: r.rejectAll ?? false,
    implMin: r.implMin ?? 0,
    implMax: r.implMax ?? 0,
    implUnaligned: r.implUnaligned ?? false,
  };
  let wholeSizes = 0;
  for (const s of [1, 2, 4]) {
    // An offset aligned to s: memory_access_size() keeps s whole when it is within the valid maximum.
    const onePiece = qemuPieceSize(fields, s, s) === s && qemuInvalidReason(fields, 0, s) === undefined;
    if (onePiece && implSize(fields, s) === s) wholeSizes |= s;
  }
  return { ...fields, wholeSizes };
}

/** Why memory_region_access_valid() refused a piece (QEMU's "reason: …" text). */
export type QemuInvalidReason = "rejected" | "unaligned" | "invalid size";

/** One QEMU memory region: its rules and its read/write callbacks. */
export interface QemuRegionOps {
  readonly rules: QemuAccessRules;
  /** The MemoryRegionOps read callback: `size` bytes at `offset`, unsigned (low 32 bits). */
  opsRead(offset: number, size: number): number;
  /** The MemoryRegionOps write callback: `size` bytes of `value` at `offset`. */
  opsWrite(offset: number, size: number, value: number): void;
  /** A piece memory_region_access_valid() refused (QEMU logs it as a guest error). */
  opsInvalid(offset: number, size: number, write: boolean, reason: QemuInvalidReason): void;
}

/** The unassigned region: every access is refused ("reason: rejected"). */
export const UNASSIGNED_RULES: QemuAccessRules = qemuAccessRules({ rejectAll: true });

/** memory_access_size(): the size of the next piece of `remaining` bytes at `offset`. */
export function qemuPieceSize(rules: QemuAccessFields, remaining: number, offset: number): number {
  let max = rules.validMax === 0 ? 4 : rules.validMax;
  if (!rules.implUnaligned) {
    const align = offset & -offset;
    if (align !== 0 && align < max) max = align;
  }
  let l = remaining > max ? max : remaining;
  // pow2floor
  while ((l & (l - 1)) !== 0) l &= l - 1;
  return l;
}

/** memory_region_access_valid(): undefined if valid, else the reason. */
export function qemuInvalidReason(rules: QemuAccessFields, offset: number, size: number): QemuInvalidReason | undefined {
  if (rules.rejectAll) return "rejected";
  if (!rules.validUnaligned && (offset & (size - 1)) !== 0) return "unaligned";
  if (rules.validMax === 0) return undefined;
  if (size > rules.validMax || size < rules.validMin) return "invalid size";
  return undefined;
}

function byteMask(n: number): number {
  return n >= 4 ? 0xffffffff : (1 << (8 * n)) - 1;
}

/** The device call size of access_with_adjusted_size() for a piece of `l` bytes. */
function implSize(rules: QemuAccessFields, l: number): number {
  const max = rules.implMax === 0 ? 4 : rules.implMax;
  const min = rules.implMin === 0 ? 1 : rules.implMin;
  const s = l < max ? l : max;
  return s > min ? s : min;
}

/**
 * A load of `len` bytes (1 to 8) at `offset` through QEMU's memory core.
 * Returns the low 32 bits (unsigned) and stores the high 32 bits in `wide.hi`.
 */
export function qemuRead(ops: QemuRegionOps, offset: number, len: number, wide: WideValue): number {
  const rules = ops.rules;
  if ((rules.wholeSizes & len) !== 0 && (offset & (len - 1)) === 0) {
    // One piece, one device call: what the loop below does for it, without the loop.
    wide.hi = 0;
    return (ops.opsRead(offset, len) & byteMask(len)) >>> 0;
  }
  let lo = 0;
  let hi = 0;
  let pos = 0;
  while (pos < len) {
    const at = offset + pos;
    const l = qemuPieceSize(rules, len - pos, at);
    const reason = qemuInvalidReason(rules, at, l);
    if (reason !== undefined) {
      ops.opsInvalid(at, l, false, reason);
    } else {
      const step = implSize(rules, l);
      for (let i = 0; i < l; i += step) {
        const keep = l - i < step ? l - i : step;
        const v = (ops.opsRead(at + i, step) & byteMask(keep)) >>> 0;
        const b = pos + i;
        if (b >= 4) {
          hi |= v << (8 * (b - 4));
        } else {
          lo |= v << (8 * b);
          if (b > 0 && 8 * (b + keep) > 32) hi |= v >>> (32 - 8 * b);
        }
      }
    }
    pos += l;
  }
  wide.hi = len > 4 ? hi >>> 0 : 0;
  return len >= 4 ? lo >>> 0 : (lo & byteMask(len)) >>> 0;
}

/** Bytes [b, b + n) (n ≤ 4) of the little-endian 64-bit value hi:lo. */
function extract(lo: number, hi: number, b: number, n: number): number {
  let v: number;
  if (b >= 4) v = hi >>> (8 * (b - 4));
  else if (b === 0) v = lo;
  else v = (lo >>> (8 * b)) | (hi << (32 - 8 * b));
  return (v & byteMask(n)) >>> 0;
}

/**
 * A store of `len` bytes (1 to 8) at `offset` through QEMU's memory core:
 * `value` holds the low 32 bits, `hi` the high 32 bits of an 8-byte store.
 */
export function qemuWrite(ops: QemuRegionOps, offset: number, len: number, value: number, hi: number): void {
  const rules = ops.rules;
  if ((rules.wholeSizes & len) !== 0 && (offset & (len - 1)) === 0) {
    ops.opsWrite(offset, len, (value & byteMask(len)) >>> 0);
    return;
  }
  let pos = 0;
  while (pos < len) {
    const at = offset + pos;
    const l = qemuPieceSize(rules, len - pos, at);
    const reason = qemuInvalidReason(rules, at, l);
    if (reason !== undefined) {
      ops.opsInvalid(at, l, true, reason);
    } else {
      const step = implSize(rules, l);
      for (let i = 0; i < l; i += step) {
        const keep = l - i < step ? l - i : step;
        ops.opsWrite(at + i, step, extract(value, hi, pos + i, keep));
      }
    }
    pos += l;
  }
}

/** QEMU's text for an invalid piece (memory_region_access_valid). */
export function qemuInvalidMessage(region: string, offset: number, size: number, write: boolean, reason: QemuInvalidReason, rules: QemuAccessRules): string {
  const detail = reason === "invalid size" ? ` (min:${rules.validMin} max:${rules.validMax})` : "";
  return `Invalid ${write ? "write" : "read"} at addr 0x${offset.toString(16).toUpperCase()}, size ${size}, region '${region}', reason: ${reason}${detail}`;
}
