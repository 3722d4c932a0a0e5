/**
 * KVM_DEV_ARM_VGIC_GRP_ADDR of the vgic-v3 device: the distributor base, the
 * legacy single redistributor region and the indexed redistributor regions,
 * with Linux's checks and errnos at KVM_SET_DEVICE_ATTR time
 * (arch/arm64/kvm/vgic/vgic-kvm-device.c kvm_vgic_addr, vgic_check_iorange;
 * vgic-mmio-v3.c vgic_v3_alloc_redist_region, vgic_v3_rdist_overlap) and at
 * the first KVM_RUN (vgic-v3.c vgic_v3_map_resources, vgic_v3_check_base).
 *
 * Redistributors are given to vCPUs in creation order, filling the regions in
 * index order (vgic_v3_rdist_free_slot; a legacy region has no count and never
 * fills). A region whose new redistributors would give a vCPU a frame in a
 * layout that vgic_v3_check_base() refuses is itself refused with EINVAL when
 * set (vgic_v3_set_redist_base → vgic_register_all_redist_iodevs →
 * vgic_register_redist_iodev), and so is a vCPU created into such a layout
 * (kvm_vgic_vcpu_init). GICR_TYPER.Last is set as vgic_mmio_vcpu_rdist_is_last() does: on
 * the last used redistributor of a region, unless the region is full and
 * another region with a used redistributor starts right at its end.
 */

import { fail } from "../errno.js";
import {
  KVM_VGIC_V3_ADDR_TYPE_DIST,
  KVM_VGIC_V3_ADDR_TYPE_REDIST,
  KVM_VGIC_V3_ADDR_TYPE_REDIST_REGION,
  KVM_VGIC_V3_DIST_SIZE,
  KVM_VGIC_V3_RDIST_BASE_MASK,
  KVM_VGIC_V3_RDIST_COUNT_SHIFT,
  KVM_VGIC_V3_RDIST_FLAGS_MASK,
  KVM_VGIC_V3_RDIST_INDEX_MASK,
  KVM_VGIC_V3_REDIST_SIZE,
  VGIC_ADDR_UNDEF,
} from "./vgic-uapi.js";

const SZ_64K = 0x10000;

/** One redistributor region (struct vgic_redist_region). */
export interface RedistRegion {
  readonly index: number;
  readonly base: number;
  /** Number of redistributors; 0 for the legacy region (sized by the vCPU count). */
  readonly count: number;
}

/** Where a vCPU's redistributor is. */
export interface RedistSlot {
  /** Position of the region in the list. */
  readonly region: number;
  /** Index of the redistributor inside the region. */
  readonly slot: number;
  /** Guest-physical address of its RD_base frame. */
  readonly base: number;
  /** GICR_TYPER.Last as Linux computes it. */
  readonly last: boolean;
}

function toU64(v: unknown, io: string, what: string): bigint {
  if (typeof v === "bigint" && v >= 0n && v <= 0xffff_ffff_ffff_ffffn) return v;
  return BigInt(toNumber(v, io, what));
}

function toNumber(v: unknown, io: string, what: string): number {
  if (typeof v === "bigint") {
    if (v < 0n || v > 0xffff_ffff_ffff_ffffn) fail("EFAULT", io, `${what} ${v} is not a u64`);
    return Number(v);
  }
  if (typeof v === "number" && Number.isSafeInteger(v) && v >= 0) return v;
  return fail("EFAULT", io, `${what} ${String(v)} is not a u64 value`);
}

/** The vgic-v3 frame addresses of one VM. */
export class VgicAddresses {
  #dist: number | undefined;
  readonly #regions: RedistRegion[] = [];

  constructor(
    /** The VM's IPA size in bits (KVM_VM_TYPE_ARM_IPA_SIZE). */
    readonly ipaBits: number,
  ) {}

  /** The distributor base, if set. */
  get distBase(): number | undefined {
    return this.#dist;
  }

  /** The redistributor regions in insertion order. */
  get regions(): readonly RedistRegion[] {
    return this.#regions;
  }

  /** KVM_SET_DEVICE_ATTR(GRP_ADDR, type). `nrVcpus` sizes the legacy region. */
  set(type: number, value: unknown, nrVcpus: number): void {
    const io = "KVM_SET_DEVICE_ATTR";
    switch (type) {
      case KVM_VGIC_V3_ADDR_TYPE_DIST: {
        const addr = toNumber(value, io, "distributor base");
        this.#checkIorange(this.#dist !== undefined, addr, KVM_VGIC_V3_DIST_SIZE, io, "distributor");
        this.#dist = addr;
        return;
      }
      case KVM_VGIC_V3_ADDR_TYPE_REDIST:
        this.#insert(0, toNumber(value, io, "redistributor base"), 0, nrVcpus);
        return;
      case KVM_VGIC_V3_ADDR_TYPE_REDIST_REGION: {
        const v = toU64(value, io, "REDIST_REGION value");
        const index = Number(v & KVM_VGIC_V3_RDIST_INDEX_MASK);
        if ((v & KVM_VGIC_V3_RDIST_FLAGS_MASK) !== 0n) fail("EINVAL", io, `REDIST_REGION flags 0x${((v & KVM_VGIC_V3_RDIST_FLAGS_MASK) >> 12n).toString(16)} must be 0`);
        const count = Number(v >> KVM_VGIC_V3_RDIST_COUNT_SHIFT);
        if (count === 0) fail("EINVAL", io, `REDIST_REGION ${index} has a count of 0`);
        this.#insert(index, Number(v & KVM_VGIC_V3_RDIST_BASE_MASK), count, nrVcpus);
        return;
      }
      default:
        fail("ENXIO", io, `unknown vgic-v3 address type ${type}`);
    }
  }

  /**
   * KVM_GET_DEVICE_ATTR(GRP_ADDR, type). For REDIST_REGION `value` carries the
   * index to read (ENOENT when no such region); the answer is encoded as set.
   */
  get(type: number, value: unknown): bigint {
    const io = "KVM_GET_DEVICE_ATTR";
    switch (type) {
      case KVM_VGIC_V3_ADDR_TYPE_DIST:
        return this.#dist === undefined ? VGIC_ADDR_UNDEF : BigInt(this.#dist);
      case KVM_VGIC_V3_ADDR_TYPE_REDIST: {
        const r = this.#regions.find((x) => x.index === 0);
        return r === undefined ? VGIC_ADDR_UNDEF : BigInt(r.base);
      }
      case KVM_VGIC_V3_ADDR_TYPE_REDIST_REGION: {
        const index = Number((value === undefined ? 0n : toU64(value, io, "REDIST_REGION value")) & KVM_VGIC_V3_RDIST_INDEX_MASK);
        const r = this.#regions.find((x) => x.index === index);
        if (r === undefined) fail("ENOENT", io, `no redistributor region with index ${index}`);
        return (BigInt(r.count) << KVM_VGIC_V3_RDIST_COUNT_SHIFT) | BigInt(r.base) | BigInt(index);
      }
      default:
        return fail("ENXIO", io, `unknown vgic-v3 address type ${type}`);
    }
  }

  /** Whether `type` is a vgic-v3 address type (KVM_HAS_DEVICE_ATTR). */
  static has(type: number): boolean {
    return type === KVM_VGIC_V3_ADDR_TYPE_DIST || type === KVM_VGIC_V3_ADDR_TYPE_REDIST || type === KVM_VGIC_V3_ADDR_TYPE_REDIST_REGION;
  }

  /** Re-inserts a region from a snapshot, with the checks of KVM_SET_DEVICE_ATTR. */
  restoreRegion(r: RedistRegion, nrVcpus: number): void {
    this.#insert(r.index, r.base, r.count, nrVcpus);
  }

  /** Size in bytes of region `r` (vgic_v3_rd_region_size). */
  regionSize(r: RedistRegion, nrVcpus: number): number {
    return (r.count !== 0 ? r.count : nrVcpus) * KVM_VGIC_V3_REDIST_SIZE;
  }

  /**
   * The redistributor of each of `nrVcpus` vCPUs (creation order), or
   * undefined for a vCPU no region has room for.
   */
  placement(nrVcpus: number): (RedistSlot | undefined)[] {
    const used = this.#regions.map(() => 0);
    const where: { region: number; slot: number }[] = [];
    for (let v = 0; v < nrVcpus; v++) {
      const i = this.#regions.findIndex((r, k) => r.count === 0 || used[k]! < r.count);
      if (i < 0) break;
      where.push({ region: i, slot: used[i]! });
      used[i]!++;
    }
    const out: (RedistSlot | undefined)[] = [];
    for (let v = 0; v < nrVcpus; v++) {
      const w = where[v];
      if (w === undefined) {
        out.push(undefined);
        continue;
      }
      const r = this.#regions[w.region]!;
      let last = w.slot === used[w.region]! - 1;
      if (last && r.count !== 0 && w.slot === r.count - 1) {
        const end = r.base + r.count * KVM_VGIC_V3_REDIST_SIZE;
        if (this.#regions.some((o, k) => o.base === end && used[k]! > 0)) last = false;
      }
      out.push({ region: w.region, slot: w.slot, base: r.base + w.slot * KVM_VGIC_V3_REDIST_SIZE, last });
    }
    return out;
  }

  /**
   * The address checks of the first KVM_RUN, in vgic_v3_map_resources()'s
   * order: ENXIO when a vCPU has no redistributor, then ENXIO when the
   * distributor base is unset, then EINVAL when vgic_v3_check_base() refuses
   * the layout. (The EBUSY for a vgic not initialised comes after these.)
   */
  checkForRun(nrVcpus: number): (RedistSlot)[] {
    const io = "KVM_RUN";
    const slots = this.placement(nrVcpus);
    const missing = slots.findIndex((s) => s === undefined);
    if (missing >= 0) fail("ENXIO", io, `vCPU #${missing} has no redistributor (set KVM_VGIC_V3_ADDR_TYPE_REDIST or REDIST_REGION)`);
    if (this.#dist === undefined) fail("ENXIO", io, "the distributor base (KVM_VGIC_V3_ADDR_TYPE_DIST) is not set");
    const bad = this.baseProblem(nrVcpus);
    if (bad !== undefined) fail("EINVAL", io, bad);
    return slots as RedistSlot[];
  }

  /**
   * vgic_v3_check_base(): why the layout is refused, or undefined when it is
   * fine. Every redistributor region (the legacy one sized by `nrVcpus`) must
   * pass vgic_check_iorange (64 KiB aligned, inside the IPA space) and the
   * distributor, when set, must not overlap any of them.
   */
  baseProblem(nrVcpus: number): string | undefined {
    for (const r of this.#regions) {
      const size = this.regionSize(r, nrVcpus);
      if (r.base % SZ_64K !== 0 || r.base + size > 2 ** this.ipaBits) return `redistributor region ${r.index} [0x${r.base.toString(16)}, +0x${size.toString(16)}) leaves the ${this.ipaBits}-bit IPA space`;
    }
    if (this.#dist !== undefined && this.#overlapsRdist(this.#dist, KVM_VGIC_V3_DIST_SIZE, nrVcpus)) return `the distributor at 0x${this.#dist.toString(16)} overlaps a redistributor region`;
    return undefined;
  }

  /**
   * kvm_vgic_vcpu_init → vgic_register_redist_iodev for a vCPU about to be
   * created while `nrVcpus` exist: when a region has a free redistributor for
   * it, vgic_v3_check_base() (legacy region sized by `nrVcpus`, the new vCPU
   * not yet online) must accept the layout, else KVM_CREATE_VCPU fails EINVAL.
   */
  checkNewVcpu(nrVcpus: number): void {
    if (this.placement(nrVcpus + 1)[nrVcpus] === undefined) return;
    const bad = this.baseProblem(nrVcpus);
    if (bad !== undefined) fail("EINVAL", "KVM_CREATE_VCPU", `no redistributor can be registered for the new vCPU: ${bad}`);
  }

  /**
   * vgic_v3_set_redist_base: vgic_v3_alloc_redist_region (count 0 = legacy),
   * then the redistributors of the vCPUs that had none are registered
   * (vgic_register_all_redist_iodevs), which fails with EINVAL and frees the
   * region when vgic_v3_check_base() refuses the new layout.
   */
  #insert(index: number, base: number, count: number, nrVcpus: number): void {
    const io = "KVM_SET_DEVICE_ATTR";
    // vgic_v3_alloc_redist_region: a legacy region is range-checked for the vCPUs
    // created so far (count ? count : online_vcpus) * KVM_VGIC_V3_REDIST_SIZE.
    const size = (count !== 0 ? count : nrVcpus) * KVM_VGIC_V3_REDIST_SIZE;
    const last = this.#regions[this.#regions.length - 1];
    if (last === undefined) {
      if (index !== 0) fail("EINVAL", io, `the first redistributor region must have index 0, not ${index}`);
    } else {
      if (count === 0 && last.count !== 0) fail("EINVAL", io, "a legacy REDIST base cannot be mixed with REDIST_REGIONs");
      if (count === 0) fail("EEXIST", io, "the legacy redistributor base is already set");
      if (index !== last.index + 1) fail("EINVAL", io, `redistributor region index ${index} is not ${last.index + 1}`);
    }
    if (count === 0 && this.#dist !== undefined && base < this.#dist + KVM_VGIC_V3_DIST_SIZE && this.#dist < base + size) {
      fail("EINVAL", io, "the legacy redistributor region overlaps the distributor");
    }
    if (this.#overlapsRdist(base, size, nrVcpus)) fail("EINVAL", io, `redistributor region ${index} overlaps another one`);
    this.#checkIorange(false, base, size, io, `redistributor region ${index}`);
    const placedBefore = this.placement(nrVcpus).filter((s) => s !== undefined).length;
    this.#regions.push({ index, base, count });
    if (this.placement(nrVcpus).filter((s) => s !== undefined).length === placedBefore) return;
    const bad = this.baseProblem(nrVcpus);
    if (bad !== undefined) {
      this.#regions.pop();
      fail("EINVAL", io, `redistributor region ${index} gives a vCPU a frame in a refused layout: ${bad}`);
    }
  }

  #overlapsRdist(base: number, size: number, nrVcpus: number): boolean {
    return this.#regions.some((r) => base + size > r.base && base < r.base + this.regionSize(r, nrVcpus));
  }

  /** vgic_check_iorange: EEXIST, EINVAL (alignment), E2BIG (beyond the IPA space). */
  #checkIorange(isSet: boolean, addr: number, size: number, io: string, what: string): void {
    if (isSet) fail("EEXIST", io, `the ${what} base is already set`);
    if (addr % SZ_64K !== 0 || size % SZ_64K !== 0) fail("EINVAL", io, `the ${what} base 0x${addr.toString(16)} is not 64 KiB aligned`);
    if (addr + size > 2 ** this.ipaBits || addr >= 2 ** this.ipaBits) fail("E2BIG", io, `the ${what} [0x${addr.toString(16)}, +0x${size.toString(16)}) is beyond the ${this.ipaBits}-bit IPA space`);
  }
}
