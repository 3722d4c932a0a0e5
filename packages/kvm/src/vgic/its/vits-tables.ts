/**
 * KVM_DEV_ARM_ITS_SAVE_TABLES / KVM_DEV_ARM_ITS_RESTORE_TABLES: the vITS
 * table ABI revision 0 (Documentation/virt/kvm/devices/arm-vgic-its.rst
 * "ITS Table ABI REV0"). Cross-check: Linux
 * arch/arm64/kvm/vgic/vgic-its.c vgic_its_save_tables_v0 /
 * vgic_its_restore_tables_v0, scan_its_table, vgic_its_check_id.
 *
 * KVM keeps the ITS state in kernel lists; only these two calls touch the
 * tables in guest RAM, with 8-byte little-endian entries:
 * - DTE (indexed by DeviceID, flat or two-level): V[63] | Next[62:49] (DeviceID
 *   delta to the next valid DTE, 0 = last, capped 2^14 − 1) | ITT_addr[51:8] in
 *   [48:5] | Size[4:0] (EventID bits − 1).
 * - ITE (indexed by EventID in the ITT): Next[63:48] (capped 2^16 − 1) |
 *   pINTID[47:16] (0 = invalid) | ICID[15:0].
 * - CTE (packed, unordered, ended by an invalid entry if not full): V[63] |
 *   RDbase[51:16] | ICID[15:0].
 * Save (vgic_its_save_tables_v0: devices and their ITTs, then collections):
 * EFAULT on a write outside RAM. Mainline skips a device the device table can no
 * longer address (vgic_its_check_id fails: "Don't fail a save that userspace must
 * be able to issue") and chains the saved DTEs past it (compute_next_devid_offset),
 * and saves an ITE whose collection MAPC V=0 freed as a zero entry that the ITE
 * chain skips (vgic_its_save_ite, compute_next_eventid_offset); Linux 6.6 failed
 * the save with EINVAL for such a device. Every collection is written, even past
 * the table's end, then an invalid entry unless the table is exactly full
 * (vgic_its_save_collection_table).
 *
 * Restore (vgic_its_restore_tables_v0: collections, then devices) adds to what the
 * ITS holds, as Linux's lists do: a CTE whose ICID the ITS already has, or one
 * appearing twice, is EEXIST (vgic_its_restore_cte → find_collection); EINVAL for a
 * collection target that is no vCPU or an ICID the collection table cannot hold
 * (vgic_its_check_id), a DTE of more than 16 EventID bits (mainline:
 * "Mimic the MAPD behaviour") or a DeviceID it cannot hold, an ITE with pINTID <
 * 8192, a next offset beyond the ITT or an unknown collection; EFAULT for an
 * unreadable entry. A failure frees every collection (vgic_its_free_collection_list,
 * also those the ITS held before; their ITEs lose their collection for good) and, if
 * it came from the device table, every device (vgic_its_free_device_list) too.
 * The GICv4.0 EACCES case (a hardware-backed ITE) does not arise: the modelled host
 * is GICv4.1.
 */

import { GITS_BASER, type Its } from "@irqlab/gic";
import { GuestMemoryFault, type GuestMemory } from "@irqlab/sim";
import { fail } from "../../errno.js";

const SZ_64K = 0x10000;
const ESZ = 8;
const LPI_BASE = 8192;
const DTE_MAX_NEXT = 2 ** 14 - 1;
const ITE_MAX_NEXT = 2 ** 16 - 1;
const COLLECTION_NOT_MAPPED = 0xffff_ffff;

type Tables = NonNullable<ReturnType<Its["state"]>["tables"]>;
type DeviceEntry = Tables["devices"][number];

interface TableGeom {
  readonly valid: boolean;
  readonly indirect: boolean;
  readonly base: number;
  readonly bytes: number;
}

function baser(its: Its, n: number): TableGeom {
  const w = { hi: 0 };
  const lo = its.read(GITS_BASER + 8 * n, 8, w);
  const hi = w.hi;
  return {
    valid: hi >>> 31 === 1,
    indirect: ((hi >>> 30) & 1) === 1,
    // 64 KiB pages (KVM forces them): PA[47:16].
    base: ((lo & 0xffff_0000) >>> 0) + (hi & 0xffff) * 2 ** 32,
    bytes: ((lo & 0xff) + 1) * SZ_64K,
  };
}

/** vgic_its_check_id(): guest address of entry `id`, or −1 when it has no slot. */
function entryAddr(mem: GuestMemory, t: TableGeom, id: number, limit: number): number {
  if (id >= limit) return -1;
  let addr: number;
  if (!t.indirect) {
    if (id >= t.bytes / ESZ) return -1;
    addr = t.base + id * ESZ;
  } else {
    const index = Math.floor(id / (SZ_64K / ESZ));
    if (index >= t.bytes / 8) return -1;
    const l1 = t.base + index * 8;
    if (!mem.isRam(l1)) return -1;
    const hi = mem.readU32(l1 + 4);
    if (hi >>> 31 === 0) return -1;
    addr = ((mem.readU32(l1) & 0xffff_0000) >>> 0) + (hi & 0xfffff) * 2 ** 32 + (id % (SZ_64K / ESZ)) * ESZ;
  }
  return mem.isRam(addr) ? addr : -1;
}

function write64(mem: GuestMemory, addr: number, lo: number, hi: number, io: string): void {
  try {
    mem.writeU32(addr, lo >>> 0);
    mem.writeU32(addr + 4, hi >>> 0);
  } catch (e) {
    if (e instanceof GuestMemoryFault) fail("EFAULT", io, `vgic-its: table write at 0x${addr.toString(16)} faulted`);
    throw e;
  }
}

function read64(mem: GuestMemory, addr: number, io: string): [number, number] {
  try {
    return [mem.readU32(addr), mem.readU32(addr + 4)];
  } catch (e) {
    if (e instanceof GuestMemoryFault) return fail("EFAULT", io, `vgic-its: table read at 0x${addr.toString(16)} faulted`);
    throw e;
  }
}

/** Whether the ITS follows Linux 6.6 rather than mainline in the save path. */
function isLinux66(its: Its): boolean {
  return its.profile.name === "linux-kvm-6.6";
}

/** KVM_DEV_ARM_ITS_SAVE_TABLES. */
export function saveItsTables(its: Its, mem: GuestMemory, io: string): void {
  const tables = its.state().tables;
  if (tables === undefined) return;
  const mainline = !isLinux66(its);
  const dt = baser(its, 0);
  if (dt.valid) {
    const devices = [...tables.devices].sort((a, b) => a.id - b.id);
    // vgic_its_save_device_tables(): each device's slot comes from vgic_its_check_id().
    const slots = devices.map((d) => entryAddr(mem, dt, d.id, 2 ** 16));
    devices.forEach((d, i) => {
      const at = slots[i]!;
      if (at < 0) {
        if (mainline) return; // skipped, and left out of the DTE chain below
        fail("EINVAL", io, `vgic-its: DeviceID ${d.id} has no slot in the device table`);
      }
      saveItt(mem, d, mainline, io);
      let nextId = -1;
      for (let j = i + 1; j < devices.length && nextId < 0; j++) if (!mainline || slots[j]! >= 0) nextId = devices[j]!.id;
      const next = nextId >= 0 ? Math.min(nextId - d.id, DTE_MAX_NEXT) : 0;
      // DTE: V[63] | Next[62:49] | ITT_addr[51:8] in [48:5] | Size[4:0]
      const itt = Math.floor(d.ittAddr / 256);
      const lo = ((itt % 2 ** 27) * 32 + (d.size & 0x1f)) >>> 0;
      const hi = ((1 << 31) | (next << 17) | Math.floor(itt / 2 ** 27)) >>> 0;
      write64(mem, at, lo, hi, io);
    });
  }
  const ct = baser(its, 1);
  if (!ct.valid) return;
  // vgic_its_save_collection_table(): every collection, then an invalid entry unless exactly full.
  let at = ct.base;
  for (const [icid, rd] of tables.collections) {
    const target = rd < 0 ? COLLECTION_NOT_MAPPED : rd;
    // CTE: V[63] | RDbase[51:16] | ICID[15:0]
    write64(mem, at, (((target & 0xffff) << 16) | (icid & 0xffff)) >>> 0, ((1 << 31) | (target >>> 16)) >>> 0, io);
    at += ESZ;
  }
  if (at !== ct.base + ct.bytes) write64(mem, at, 0, 0, io);
}

/** vgic_its_save_itt(): the ITEs of one device in EventID order. */
function saveItt(mem: GuestMemory, d: DeviceEntry, mainline: boolean, io: string): void {
  const ites = [...d.ites].sort((a, b) => (a[0] ?? 0) - (b[0] ?? 0));
  ites.forEach((ite, j) => {
    const [ev = 0, , intid = 0, icid = 0] = ite;
    if (mainline && icid < 0) {
      // vgic_its_save_ite(): MAPC V=0 left the ITE without a collection: a zero (invalid) entry.
      write64(mem, d.ittAddr + ev * ESZ, 0, 0, io);
      return;
    }
    // compute_next_eventid_offset(): mainline points at the next ITE saved as valid.
    let nextEv = -1;
    for (let k = j + 1; k < ites.length && nextEv < 0; k++) if (!mainline || (ites[k]![3] ?? 0) >= 0) nextEv = ites[k]![0] ?? 0;
    const next = nextEv >= 0 ? Math.min(nextEv - ev, ITE_MAX_NEXT) : 0;
    // ITE: Next[63:48] | pINTID[47:16] | ICID[15:0]
    write64(mem, d.ittAddr + ev * ESZ, (((intid & 0xffff) << 16) | (icid & 0xffff)) >>> 0, ((next << 16) | (intid >>> 16)) >>> 0, io);
  });
}

/**
 * KVM_DEV_ARM_ITS_RESTORE_TABLES: collections first, then devices and their ITTs,
 * added to what the ITS already holds. `isVcpu(id)` says whether a collection
 * target names a vCPU.
 */
export function restoreItsTables(its: Its, mem: GuestMemory, isVcpu: (id: number) => boolean, io: string): void {
  const state = its.state();
  const held = state.tables;
  if (held === undefined) return;
  const collections = new Map<number, number>(held.collections);
  const restored: DeviceEntry[] = [];
  try {
    restoreCollections(its, mem, isVcpu, collections, io);
  } catch (e) {
    // vgic_its_restore_collection_table(): vgic_its_free_collection_list() on error, which orphans the
    // ITEs and, unlike MAPC V=0, leaves the translation cache alone; devices stay.
    its.executor.ctx.store.clearCollections();
    throw e;
  }
  try {
    restoreDevices(its, mem, collections, restored, io);
  } catch (e) {
    // vgic_its_restore_device_tables() frees every device, vgic_its_restore_tables_v0() every collection.
    dropPending(its);
    its.loadState({ ...state, tables: { devices: [], collections: [] } });
    throw e;
  }
  // vgic_its_alloc_device() adds a second its_device for a DeviceID the ITS holds already; find_its_device()
  // only ever finds the first one, so the model keeps that one and drops the restored twin.
  const heldIds = new Set(held.devices.map((d) => d.id));
  const added = restored.filter((d) => !heldIds.has(d.id));
  its.loadState({ ...state, tables: { devices: [...held.devices, ...added], collections: [...collections] } });
  // vgic_add_lpi() reads each restored LPI's configuration byte (update_lpi_config).
  const ex = its.executor;
  for (const d of added) {
    for (const [, , intid = 0, icid = 0] of d.ites) {
      const rd = collections.get(icid) ?? -1;
      if (rd >= 0 && ex.isRd(rd)) ex.ctx.target.invalidateLpi(rd, intid);
    }
  }
}

/** its_free_ite() of every ITE the ITS holds: the freed LPIs' pending state goes with them. */
function dropPending(its: Its): void {
  const ex = its.executor;
  ex.ctx.store.forEachPhysicalIte((_d, _e, ite) => {
    ex.dropIte(ite);
  });
}

function restoreCollections(its: Its, mem: GuestMemory, isVcpu: (id: number) => boolean, out: Map<number, number>, io: string): void {
  const ct = baser(its, 1);
  if (!ct.valid) return;
  for (let at = ct.base; at < ct.base + ct.bytes; at += ESZ) {
    const [lo, hi] = read64(mem, at, io);
    if (hi >>> 31 === 0) return;
    const icid = lo & 0xffff;
    // (u32)(val >> 16): RDbase bits [47:16].
    const target = ((lo >>> 16) | ((hi & 0xffff) << 16)) >>> 0;
    if (target !== COLLECTION_NOT_MAPPED && !isVcpu(target)) fail("EINVAL", io, `vgic-its: collection ${icid} targets ${target}, which is no vCPU`);
    // find_collection(): the ITS's own collections count, not just those restored so far.
    if (out.has(icid)) fail("EEXIST", io, `vgic-its: collection ${icid} exists already`);
    if (entryAddr(mem, ct, icid, 2 ** 16) < 0) fail("EINVAL", io, `vgic-its: ICID ${icid} has no slot in the collection table`);
    out.set(icid, target === COLLECTION_NOT_MAPPED ? -1 : target);
  }
}
function restoreDevices(its: Its, mem: GuestMemory, collections: Map<number, number>, out: DeviceEntry[], io: string): void {
  const linux66 = isLinux66(its);
  const dt = baser(its, 0);
  if (!dt.valid) return;
  if (dt.indirect) {
    for (let l1 = 0; l1 < dt.bytes / 8; l1++) {
      const [lo, hi] = read64(mem, dt.base + l1 * 8, io);
      if (hi >>> 31 === 0) continue;
      const page = ((lo & 0xffff_0000) >>> 0) + (hi & 0xfffff) * 2 ** 32;
      if (scanDevices(mem, page, SZ_64K, l1 * (SZ_64K / ESZ), collections, out, io, linux66) === 0) return;
    }
    return;
  }
  scanDevices(mem, dt.base, dt.bytes, 0, collections, out, io, linux66);
}

/** scan_its_table over DTEs: returns 0 when the last DTE was found. */
function scanDevices(
  mem: GuestMemory,
  base: number,
  bytes: number,
  firstId: number,
  collections: Map<number, number>,
  out: DeviceEntry[],
  io: string,
  linux66: boolean,
): number {
  let id = firstId;
  let at = base;
  let left = bytes;
  for (;;) {
    const [lo, hi] = read64(mem, at, io);
    let step = 1;
    if (hi >>> 31 === 1) {
      const size = (lo & 0x1f) + 1;
      const itt = (Math.floor(lo / 32) + (hi & 0x1ffff) * 2 ** 27) * 256;
      step = (hi >>> 17) & DTE_MAX_NEXT;
      // vgic_its_restore_dte(): mainline rejects what MAPD would (num_eventid_bits > VITS_TYPER_IDBITS).
      if (size > 16 && !linux66) fail("EINVAL", io, `vgic-its: DTE of DeviceID ${id} has ${size} EventID bits`);
      if (id >= 2 ** 16) fail("EINVAL", io, `vgic-its: DeviceID ${id} is out of range`);
      out.push({ id, size: size - 1, ittAddr: itt, ites: restoreItt(mem, itt, size, collections, io) });
      if (step === 0) return 0;
    }
    if (step * ESZ >= left) return 1;
    id += step;
    at += step * ESZ;
    left -= step * ESZ;
  }
}

function restoreItt(mem: GuestMemory, itt: number, bits: number, collections: Map<number, number>, io: string): number[][] {
  const ites: number[][] = [];
  const n = 2 ** bits;
  for (let ev = 0; ev < n; ) {
    const [lo, hi] = read64(mem, itt + ev * ESZ, io);
    const intid = ((lo >>> 16) | ((hi & 0xffff) << 16)) >>> 0;
    if (intid === 0) {
      ev++;
      continue;
    }
    if (intid < LPI_BASE) fail("EINVAL", io, `vgic-its: ITE ${ev} has pINTID ${intid} < 8192`);
    const next = hi >>> 16;
    if (ev + next >= n) fail("EINVAL", io, `vgic-its: ITE ${ev} points beyond its ITT`);
    const icid = lo & 0xffff;
    if (!collections.has(icid)) fail("EINVAL", io, `vgic-its: ITE ${ev} names unknown collection ${icid}`);
    // [EventID, physical, pINTID, ICID, vPEID, doorbell] as the model store keeps them.
    ites.push([ev, 1, intid, icid, 0, 1023]);
    if (next === 0) break;
    ev += next;
  }
  return ites;
}
