/**
 * ITS translation tables — the device table (DeviceID → ITT), the interrupt
 * translation tables (EventID → ITE) and the collection table (ICID → RDbase),
 * IHI 0069H §5.2 — and the GITS_BASER<n> registers that describe them
 * (§12.19.1: reset values, write rules and geometry, at the end of this file).
 *
 * Two stores share one interface: {@link ModelTableStore} (this file) keeps the
 * tables in the model, as KVM keeps them in kernel lists (Linux
 * arch/arm64/kvm/vgic/vgic-its.c: its->device_list, device->itt_head,
 * its->collection_list); the guest-memory store (its-memory-tables.ts) keeps
 * them in guest RAM where GITS_BASER<n> points, as QEMU's TCG ITS does.
 * Table entries are read into preallocated records so lookups allocate nothing.
 */

import type { GuestMemory } from "@irqlab/sim";
import { GuestMemoryFault } from "@irqlab/sim";
import * as C from "./its-constants.js";
import type { ItsProfile } from "./its-profiles.js";

/** A device table entry, as read. `size` is MAPD.Size (EventID bits − 1). */
export class DteRecord {
  valid = false;
  size = 0;
  ittAddr = 0;
}

/** An interrupt translation entry, as read. */
export class IteRecord {
  valid = false;
  /** Physical LPI (MAPTI/MAPI) or virtual LPI (VMAPTI/VMAPI). */
  physical = true;
  /** pINTID, or vINTID when virtual. */
  intid = 0;
  /** ICID of a physical ITE. */
  icid = 0;
  /** vPEID of a virtual ITE. */
  vpeid = 0;
  /** Per-vLPI doorbell pINTID of a virtual ITE (1023 = none). */
  doorbell = C.INTID_SPURIOUS;
  /**
   * RDbase a physical LPI is delivered to instead of its collection's, or −1
   * when it follows the collection. KVM delivers to vgic_irq.target_vcpu, which
   * MOVALL moves on its own (update_affinity) while the collection stays; MAPC
   * and MOVI set it from a collection again (update_affinity_collection / _ite).
   */
  affinity = -1;

  /** Copies `o` into this record. */
  copyFrom(o: IteRecord): void {
    this.valid = o.valid;
    this.physical = o.physical;
    this.intid = o.intid;
    this.icid = o.icid;
    this.vpeid = o.vpeid;
    this.doorbell = o.doorbell;
    this.affinity = o.affinity;
  }
}

/** Geometry of one GITS_BASER<n> table, fixed when the ITS is enabled. */
export interface ItsTableParams {
  readonly valid: boolean;
  readonly indirect: boolean;
  readonly base: number;
  readonly pageSize: number;
  readonly entrySize: number;
  /** Entries addressable through the table (flat: pages × pageSize / entrySize). */
  readonly numEntries: number;
}

/** A table that addresses nothing (BASER invalid). */
export const NO_TABLE: ItsTableParams = { valid: false, indirect: false, base: 0, pageSize: 0, entrySize: 8, numEntries: 0 };

/** Operations the command executor needs from a table store. */
export interface ItsTableStore {
  /** Tables are read from guest memory (a read may throw GuestMemoryFault). */
  readonly inGuestMemory: boolean;
  /** Sets the table geometry (at ITS enable). */
  configure(device: ItsTableParams, collection: ItsTableParams): void;
  /** Whether `devId` addresses a storable device table entry. */
  deviceIdInRange(devId: number): boolean;
  /** Whether `icid` addresses a storable collection table entry. */
  collectionIdInRange(icid: number): boolean;
  readDte(devId: number, out: DteRecord): void;
  writeDte(devId: number, valid: boolean, size: number, ittAddr: number): void;
  readIte(devId: number, dte: DteRecord, eventId: number, out: IteRecord): void;
  writeIte(devId: number, dte: DteRecord, eventId: number, ite: IteRecord): void;
  clearIte(devId: number, dte: DteRecord, eventId: number): void;
  /** Target RD of collection `icid`, or −1 when unmapped. */
  readCte(icid: number): number;
  writeCte(icid: number, rd: number): void;
  /** Whether the collection exists, mapped or not (KVM allocates unmapped ones on MAPTI). */
  collectionExists(icid: number): boolean;
  /** Calls `fn` for every valid ITE of a device (model store only; the memory store walks the ITT). */
  forEachIte(devId: number, dte: DteRecord, fn: (eventId: number, ite: IteRecord) => void): void;
  /** Calls `fn` for every valid physical ITE (model store); no-op for the memory store. */
  forEachPhysicalIte(fn: (devId: number, eventId: number, ite: IteRecord) => void): void;
  /** Drops every device (KVM: GITS_BASER0.Valid written 0). */
  clearDevices(): void;
  /** Drops every collection (KVM: GITS_BASER1.Valid written 0). */
  clearCollections(): void;
}

/** Plain snapshot of a model store. */
export interface ModelTableStoreState {
  readonly devices: readonly { id: number; size: number; ittAddr: number; ites: readonly (readonly number[])[] }[];
  readonly collections: readonly (readonly [number, number])[];
}

interface ModelDevice {
  size: number;
  ittAddr: number;
  readonly ites: Map<number, IteRecord>;
}

/**
 * Tables kept in the model (KVM's lists). Range checks still follow the
 * guest's GITS_BASER geometry: KVM's vgic_its_check_id() accepts an ID only if
 * its entry would fit the table, and for a two-level table reads the level-1
 * entry from guest memory (Valid bit 63).
 */
export class ModelTableStore implements ItsTableStore {
  readonly inGuestMemory = false;
  readonly #devices = new Map<number, ModelDevice>();
  readonly #collections = new Map<number, number>();
  #device: ItsTableParams = NO_TABLE;
  #collection: ItsTableParams = NO_TABLE;

  constructor(
    private readonly memory: GuestMemory,
    private readonly maxDeviceIds: number,
    private readonly maxCollectionIds: number,
  ) {}

  configure(device: ItsTableParams, collection: ItsTableParams): void {
    this.#device = device;
    this.#collection = collection;
  }

  deviceIdInRange(devId: number): boolean {
    return this.deviceEntryAddress(devId) >= 0;
  }

  collectionIdInRange(icid: number): boolean {
    return icid < this.maxCollectionIds && entryAddress(this.memory, this.#collection, icid) >= 0;
  }

  readDte(devId: number, out: DteRecord): void {
    const d = this.#devices.get(devId);
    if (d === undefined) {
      out.valid = false;
      return;
    }
    out.valid = true;
    out.size = d.size;
    out.ittAddr = d.ittAddr;
  }

  writeDte(devId: number, valid: boolean, size: number, ittAddr: number): void {
    if (!valid) this.#devices.delete(devId);
    else this.#devices.set(devId, { size, ittAddr, ites: new Map() });
  }

  readIte(devId: number, _dte: DteRecord, eventId: number, out: IteRecord): void {
    const ite = this.#devices.get(devId)?.ites.get(eventId);
    if (ite === undefined) out.valid = false;
    else out.copyFrom(ite);
  }

  /** The live ITE object (hot path: no copy). */
  lookupIte(devId: number, eventId: number): IteRecord | undefined {
    return this.#devices.get(devId)?.ites.get(eventId);
  }

  writeIte(devId: number, _dte: DteRecord, eventId: number, ite: IteRecord): void {
    const d = this.#devices.get(devId);
    if (d === undefined) return;
    const rec = new IteRecord();
    rec.copyFrom(ite);
    rec.valid = true;
    d.ites.set(eventId, rec);
  }

  clearIte(devId: number, _dte: DteRecord, eventId: number): void {
    this.#devices.get(devId)?.ites.delete(eventId);
  }

  readCte(icid: number): number {
    return this.#collections.get(icid) ?? -1;
  }

  writeCte(icid: number, rd: number): void {
    this.#collections.set(icid, rd);
  }

  /** KVM MAPC V=0 frees the collection (its ITEs keep a dangling ICID). */
  deleteCollection(icid: number): void {
    this.#collections.delete(icid);
  }

  collectionExists(icid: number): boolean {
    return this.#collections.has(icid);
  }

  forEachIte(devId: number, _dte: DteRecord, fn: (eventId: number, ite: IteRecord) => void): void {
    const d = this.#devices.get(devId);
    if (d === undefined) return;
    for (const [eventId, ite] of d.ites) fn(eventId, ite);
  }

  forEachPhysicalIte(fn: (devId: number, eventId: number, ite: IteRecord) => void): void {
    for (const [devId, d] of this.#devices) for (const [eventId, ite] of d.ites) if (ite.physical) fn(devId, eventId, ite);
  }

  clearDevices(): void {
    this.#devices.clear();
  }

  /**
   * vgic_its_free_collection_list(): every collection goes, and each ITE that
   * pointed at one keeps a NULL collection (vgic_its_free_collection), so it
   * stays unreachable even if the guest maps that ICID again.
   */
  clearCollections(): void {
    this.forEachPhysicalIte((_d, _e, ite) => {
      if (this.#collections.has(ite.icid)) ite.icid = -1;
    });
    this.#collections.clear();
  }

  /**
   * Guest address of the device table entry of `devId`, or −1 when it has
   * none: vgic_its_check_id() — the ID must fit the table, a two-level table
   * needs a valid level-1 entry, and the entry must be RAM (kvm_is_visible_gfn).
   */
  deviceEntryAddress(devId: number): number {
    return devId < this.maxDeviceIds ? entryAddress(this.memory, this.#device, devId) : -1;
  }

  /** Writes a zero entry at `addr` (vgic_its_write_entry_lock(its, gpa, 0ULL, ...)). */
  zeroGuestEntry(addr: number): void {
    this.memory.writeU32(addr, 0);
    this.memory.writeU32(addr + 4, 0);
  }

  /** Snapshot of every device, ITE and collection. */
  state(): ModelTableStoreState {
    const devices = [...this.#devices].map(([id, d]) => ({
      id,
      size: d.size,
      ittAddr: d.ittAddr,
      // A seventh element only for an LPI that MOVALL moved off its collection's RDbase.
      ites: [...d.ites].map(([ev, i]) => {
        const e = [ev, i.physical ? 1 : 0, i.intid, i.icid, i.vpeid, i.doorbell];
        if (i.affinity >= 0) e.push(i.affinity);
        return e;
      }),
    }));
    return { devices, collections: [...this.#collections] };
  }

  /** Replaces the contents with a snapshot taken by {@link state}. */
  load(s: ModelTableStoreState): void {
    this.#devices.clear();
    this.#collections.clear();
    for (const d of s.devices) {
      const ites = new Map<number, IteRecord>();
      for (const [ev, phys, intid, icid, vpeid, db, affinity] of d.ites) {
        const r = new IteRecord();
        r.valid = true;
        r.physical = phys === 1;
        r.intid = intid ?? 0;
        r.icid = icid ?? 0;
        r.vpeid = vpeid ?? 0;
        r.doorbell = db ?? C.INTID_SPURIOUS;
        r.affinity = affinity ?? -1;
        ites.set(ev ?? 0, r);
      }
      this.#devices.set(d.id, { size: d.size, ittAddr: d.ittAddr, ites });
    }
    for (const [icid, rd] of s.collections) this.#collections.set(icid, rd);
  }
}

/**
 * Whether `id` addresses an entry of `t`. For a two-level table, the level-1
 * entry (8 bytes, Valid = bit 63) is read from guest memory; a fault or an
 * invalid entry means "out of range".
 */
export function idInTable(memory: GuestMemory, t: ItsTableParams, id: number): boolean {
  if (!t.valid || id >= t.numEntries) return false;
  if (!t.indirect) return true;
  return level2Base(memory, t, id) >= 0;
}

/**
 * Guest address of entry `id` of `t`, or −1 when it has none or the entry is
 * not RAM (KVM's vgic_its_check_id(): __is_visible_gfn_locked on the entry).
 */
export function entryAddress(memory: GuestMemory, t: ItsTableParams, id: number): number {
  if (!t.valid || id >= t.numEntries) return -1;
  let addr: number;
  if (!t.indirect) {
    addr = t.base + id * t.entrySize;
  } else {
    const page = level2Base(memory, t, id);
    if (page < 0) return -1;
    addr = page + (id % Math.floor(t.pageSize / t.entrySize)) * t.entrySize;
  }
  return memory.isRam(addr) ? addr : -1;
}

/** Address of the level-2 page holding `id`: −2 when its L1 entry is invalid, −1 on a memory fault. */
export function level2Base(memory: GuestMemory, t: ItsTableParams, id: number): number {
  const perPage = t.pageSize / t.entrySize;
  const l1 = t.base + Math.floor(id / perPage) * 8;
  try {
    const lo = memory.readU32(l1);
    const hi = memory.readU32(l1 + 4);
    if (hi >>> 31 === 0) return -2;
    // L1 entry: Valid[63], PA of the level-2 page in [51:12] (page aligned).
    return ((lo & ~(t.pageSize - 1)) >>> 0) + (hi & 0xfffff) * 2 ** 32;
  } catch (e) {
    if (e instanceof GuestMemoryFault) return -1;
    throw e;
  }
}

// ---------------------------------------------------------------------------
/*
 * GITS_BASER<n>: reset values, write rules and table geometry
 * (IHI 0069H §12.19.1). Fields: Size[7:0] (pages − 1), Page_Size[9:8]
 * (0 = 4 KiB, 1 = 16 KiB, 2 = 64 KiB), Shareability[11:10], PA[47:12]
 * (64 KiB pages: PA[47:16] plus PA[51:48] in [15:12]), Entry_Size[52:48]
 * (bytes − 1, read-only), OuterCache[55:53], Type[58:56] (read-only),
 * InnerCache[61:59], Indirect[62], Valid[63].
 *
 * Profiles: KVM (vgic-its.c vgic_mmio_write_its_baser()) forces 64 KiB pages,
 * clears Indirect for the collection table and sanitises the attributes
 * (vgic-mmio-v3.c: Outer Shareable → Inner Shareable, inner nCnB/nC → RaWb,
 * outer other than SameAsInner/nC → nC). QEMU (arm_gicv3_its.c its_writell())
 * only protects the read-only Type and Entry_Size. A BASER whose Type is 0
 * ("unimplemented") is RAZ/WI in both.
 */

/** Read-only fields of the high word: Type[58:56] and Entry_Size[52:48]. */
const HI_RO_MASK = 0x071f_0000;
const SHAREABILITY_SHIFT = 10;
const INNER_CACHE_SHIFT = 59 - 32;
const OUTER_CACHE_SHIFT = 53 - 32;
const GIC_BASER_INNER_SHAREABLE = 1;
const GIC_BASER_OUTER_SHAREABLE = 2;
const GIC_BASER_CACHE_NC = 1;
const GIC_BASER_CACHE_RAWB = 3;

/** Reset value (lo, hi) of GITS_BASER<n>: 0 = Device, 1 = Collection, 2 = vPE (GICv4), others unimplemented. */
export function baserReset(n: number, virtual: boolean): [number, number] {
  let type = C.GITS_BASER_TYPE_NONE;
  if (n === 0) type = C.GITS_BASER_TYPE_DEVICE;
  else if (n === 1) type = C.GITS_BASER_TYPE_COLLECTION;
  else if (n === 2 && virtual) type = C.GITS_BASER_TYPE_VCPU;
  if (type === C.GITS_BASER_TYPE_NONE) return [0, 0];
  // KVM vgic_its_create(): InnerShareable, RaWb, 64 KiB pages, 8-byte entries.
  const lo = (C.GITS_BASER_PAGE_SIZE_64K << C.GITS_BASER_PAGE_SIZE_SHIFT) | (GIC_BASER_INNER_SHAREABLE << SHAREABILITY_SHIFT);
  const hi = (type << C.GITS_BASER_HI_TYPE_SHIFT) | (7 << C.GITS_BASER_HI_ENTRY_SIZE_SHIFT) | (GIC_BASER_CACHE_RAWB << INNER_CACHE_SHIFT);
  return [lo >>> 0, hi >>> 0];
}

/** The value (lo, hi) a GITS_BASER write of (lo, hi) leaves, given the old value. */
export function writeBaser(p: ItsProfile, oldLo: number, oldHi: number, lo: number, hi: number): [number, number] {
  const type = (oldHi >>> C.GITS_BASER_HI_TYPE_SHIFT) & 7;
  if (type === C.GITS_BASER_TYPE_NONE) return [oldLo, oldHi];
  let nlo = lo >>> 0;
  let nhi = ((hi & ~HI_RO_MASK) | (oldHi & HI_RO_MASK)) >>> 0;
  if (p.baserForce64k) {
    nlo = (nlo & ~0x300) | (C.GITS_BASER_PAGE_SIZE_64K << C.GITS_BASER_PAGE_SIZE_SHIFT);
    if (type === C.GITS_BASER_TYPE_COLLECTION) nhi &= ~C.GITS_BASER_HI_INDIRECT;
    const sh = (nlo >>> SHAREABILITY_SHIFT) & 3;
    if (sh === GIC_BASER_OUTER_SHAREABLE) nlo = (nlo & ~(3 << SHAREABILITY_SHIFT)) | (GIC_BASER_INNER_SHAREABLE << SHAREABILITY_SHIFT);
    const inner = (nhi >>> INNER_CACHE_SHIFT) & 7;
    if (inner <= GIC_BASER_CACHE_NC) nhi = (nhi & ~(7 << INNER_CACHE_SHIFT)) | (GIC_BASER_CACHE_RAWB << INNER_CACHE_SHIFT);
    const outer = (nhi >>> OUTER_CACHE_SHIFT) & 7;
    if (outer > GIC_BASER_CACHE_NC) nhi = (nhi & ~(7 << OUTER_CACHE_SHIFT)) | (GIC_BASER_CACHE_NC << OUTER_CACHE_SHIFT);
  }
  return [nlo >>> 0, nhi >>> 0];
}

/** Page size in bytes of a Page_Size encoding (3 is reserved; treated as 64 KiB). */
export function baserPageSize(lo: number): number {
  const enc = (lo >>> C.GITS_BASER_PAGE_SIZE_SHIFT) & 3;
  return enc === 0 ? 4096 : enc === 1 ? 16384 : 65536;
}

/** The table GITS_BASER (lo, hi) describes. */
export function baserTableParams(lo: number, hi: number): ItsTableParams {
  const valid = hi >>> 31 === 1;
  const indirect = ((hi >>> 30) & 1) === 1;
  const pageSize = baserPageSize(lo);
  const entrySize = ((hi >>> C.GITS_BASER_HI_ENTRY_SIZE_SHIFT) & 0x1f) + 1;
  const bytes = ((lo & 0xff) + 1) * pageSize;
  let base: number;
  if (pageSize === 65536) {
    base = ((lo & 0xffff_0000) >>> 0) + (hi & 0xffff) * 2 ** 32 + ((lo >>> 12) & 0xf) * 2 ** 48;
  } else {
    base = ((lo & 0xffff_f000 & ~(pageSize - 1)) >>> 0) + (hi & 0xffff) * 2 ** 32;
  }
  const numEntries = indirect ? (bytes / 8) * Math.floor(pageSize / entrySize) : Math.floor(bytes / entrySize);
  return { valid, indirect, base, pageSize, entrySize, numEntries: valid ? numEntries : 0 };
}
