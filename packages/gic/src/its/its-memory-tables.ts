/**
 * ITS tables in guest memory, in the formats of QEMU's TCG ITS
 * (qemu hw/intc/gicv3_internal.h; IHI 0069H §5.2 leaves entry formats
 * IMPLEMENTATION DEFINED and fixes only level-1 entries: Valid[63], PA):
 *
 * - DTE, 8 bytes: Valid[0], Size[5:1], ITT_addr[49:6] (the ITT address >> 8);
 * - CTE, 8 bytes: Valid[0], RDbase[16:1] (processor number);
 * - ITE, 12 bytes: Valid[0], IntType[1] (1 physical, 0 virtual), IntID[25:2],
 *   ICID[47:32], vPEID[63:48]; then Doorbell[24:0] in the next word.
 *
 * Every access goes to guest RAM, so a guest that scribbles over its tables
 * sees the consequence, and an access outside RAM throws GuestMemoryFault,
 * which the QEMU profile turns into a stalled queue (process_cmdq CMD_STALL).
 * A level-1 entry with Valid = 0 reads as an invalid entry and swallows writes
 * (QEMU table_entry_addr() returning 0).
 */

import type { GuestMemory } from "@irqlab/sim";
import { GuestMemoryFault } from "@irqlab/sim";
import {
  type DteRecord,
  type ItsTableParams,
  type ItsTableStore,
  IteRecord,
  NO_TABLE,
  level2Base,
} from "./its-tables.js";

/** Bytes of one ITE in QEMU's format. */
export const QEMU_ITE_SIZE = 12;

const TWO_26 = 2 ** 26;

/** Device, collection and ITT tables in guest RAM (QEMU TCG formats). */
export class GuestMemoryTableStore implements ItsTableStore {
  readonly inGuestMemory = true;
  #device: ItsTableParams = NO_TABLE;
  #collection: ItsTableParams = NO_TABLE;
  readonly #scratch = new IteRecord();

  constructor(private readonly memory: GuestMemory) {}

  configure(device: ItsTableParams, collection: ItsTableParams): void {
    this.#device = device;
    this.#collection = collection;
  }

  deviceIdInRange(devId: number): boolean {
    return devId < this.#device.numEntries;
  }

  collectionIdInRange(icid: number): boolean {
    return icid < this.#collection.numEntries;
  }

  readDte(devId: number, out: DteRecord): void {
    const a = this.#entryAddr(this.#device, devId);
    if (a < 0) {
      out.valid = false;
      return;
    }
    const lo = this.memory.readU32(a);
    const hi = this.memory.readU32(a + 4);
    out.valid = (lo & 1) === 1;
    out.size = (lo >>> 1) & 0x1f;
    // ITT_addr[49:6] holds address bits [51:8]: 26 bits in the low word, 18 in the high.
    out.ittAddr = ((lo >>> 6) + (hi & 0x3ffff) * TWO_26) * 256;
  }

  writeDte(devId: number, valid: boolean, size: number, ittAddr: number): void {
    const a = this.#entryAddr(this.#device, devId);
    if (a < 0) return;
    const field = valid ? Math.floor(ittAddr / 256) : 0;
    const lo = (valid ? 1 : 0) | ((valid ? size : 0) << 1) | ((field % TWO_26) << 6);
    this.memory.writeU32(a, lo >>> 0);
    this.memory.writeU32(a + 4, Math.floor(field / TWO_26) & 0x3ffff);
  }

  readIte(_devId: number, dte: DteRecord, eventId: number, out: IteRecord): void {
    const a = dte.ittAddr + eventId * QEMU_ITE_SIZE;
    const lo = this.memory.readU32(a);
    const hi = this.memory.readU32(a + 4);
    const db = this.memory.readU32(a + 8);
    out.valid = (lo & 1) === 1;
    out.physical = (lo & 2) !== 0;
    out.intid = (lo >>> 2) & 0xff_ffff;
    out.icid = hi & 0xffff;
    out.vpeid = hi >>> 16;
    out.doorbell = db & 0x1ff_ffff;
    out.affinity = -1; // QEMU routes by the collection only
  }

  writeIte(_devId: number, dte: DteRecord, eventId: number, ite: IteRecord): void {
    const a = dte.ittAddr + eventId * QEMU_ITE_SIZE;
    const lo = 1 | (ite.physical ? 2 : 0) | ((ite.intid & 0xff_ffff) << 2);
    this.memory.writeU32(a, lo >>> 0);
    this.memory.writeU32(a + 4, ((ite.icid & 0xffff) | ((ite.vpeid & 0xffff) << 16)) >>> 0);
    this.memory.writeU32(a + 8, ite.doorbell & 0x1ff_ffff);
  }

  clearIte(_devId: number, dte: DteRecord, eventId: number): void {
    const a = dte.ittAddr + eventId * QEMU_ITE_SIZE;
    this.memory.writeU32(a, 0);
    this.memory.writeU32(a + 4, 0);
    this.memory.writeU32(a + 8, 0);
  }

  readCte(icid: number): number {
    const a = this.#entryAddr(this.#collection, icid);
    if (a < 0) return -1;
    const lo = this.memory.readU32(a);
    return (lo & 1) === 1 ? (lo >>> 1) & 0xffff : -1;
  }

  writeCte(icid: number, rd: number): void {
    const a = this.#entryAddr(this.#collection, icid);
    if (a < 0) return;
    this.memory.writeU32(a, rd < 0 ? 0 : (1 | ((rd & 0xffff) << 1)) >>> 0);
    this.memory.writeU32(a + 4, 0);
  }

  collectionExists(icid: number): boolean {
    return this.readCte(icid) >= 0;
  }

  forEachIte(devId: number, dte: DteRecord, fn: (eventId: number, ite: IteRecord) => void): void {
    const n = 2 ** (dte.size + 1);
    const ite = this.#scratch;
    for (let ev = 0; ev < n; ev++) {
      this.readIte(devId, dte, ev, ite);
      if (ite.valid) fn(ev, ite);
    }
  }

  forEachPhysicalIte(): void {
    // Walking every ITT of guest memory is not something QEMU does either.
  }

  clearDevices(): void {
    // The tables are the guest's memory: nothing is held here.
  }

  clearCollections(): void {
    // As clearDevices().
  }

  /** Address of entry `id` of `t`, or −1 when the level-1 entry is invalid. Throws on a memory fault. */
  #entryAddr(t: ItsTableParams, id: number): number {
    if (!t.valid || id >= t.numEntries) return -1;
    if (!t.indirect) return t.base + id * t.entrySize;
    const l2 = level2Base(this.memory, t, id);
    if (l2 === -1) throw new GuestMemoryFault(t.base, 8, "read");
    if (l2 < 0) return -1;
    const perPage = t.pageSize / t.entrySize;
    return l2 + (id % perPage) * t.entrySize;
  }
}
