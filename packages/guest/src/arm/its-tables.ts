/**
 * The ITS's own tables in guest memory, as Linux allocates them
 * (drivers/irqchip/irq-gic-v3-its.c its_alloc_tables, its_setup_baser,
 * its_parse_indirect_baser, its_alloc_table_entry): for each GITS_BASER<n>
 * the driver reads Type and Entry_Size, allocates 64 KiB pages, writes the
 * register (address, Type, Entry_Size, Size, Page_Size, RaWaWb, Inner
 * Shareable, Valid) and reads it back. The device table is made two-level
 * when the ITS keeps the Indirect bit (KVM's does), so its level-1 table is
 * one page of 8-byte entries and a level-2 page is allocated, zeroed and
 * marked Valid in level 1 when MAPD first needs a DeviceID in it. The
 * collection table stays flat. vPE tables (GICv4) are not allocated: a
 * guest has no vPEs. Architecture: IHI 0069H §12.19.1 (GITS_BASER<n>).
 */

import {
  GITS_BASER,
  GITS_BASER_HI_INDIRECT,
  GITS_BASER_HI_VALID,
  GITS_BASER_NR_REGS,
  GITS_BASER_TYPE_COLLECTION,
  GITS_BASER_TYPE_DEVICE,
} from "@irqlab/gic";
import { op } from "@irqlab/sim";
import type { GuestCode } from "../guest-image.js";
import { SZ_64K, type KernelPages } from "./its-pages.js";

/** GITS_LVL1_ENTRY_SIZE. */
export const GITS_LVL1_ENTRY_SIZE = 8;
/** GITS_BASER_PAGES_MAX: the Size field holds up to 256 pages. */
export const GITS_BASER_PAGES_MAX = 256;

/** Page_Size = 64 KiB (2 << 8), InnerCache = RaWaWb (7 << 59), Shareability = Inner (1 << 10). */
const PAGE_SIZE_64K = 2 << 8;
const PAGE_SIZE_MASK = 3 << 8;
const HI_RAWAWB = 7 << 27;
const INNER_SHAREABLE = 1 << 10;

/** One allocated table. */
export interface ItsBaserTable {
  /** The GITS_BASER index. */
  readonly index: number;
  readonly type: number;
  /** Entry_Size + 1 as read (bytes per entry of a flat table or a level-2 page). */
  readonly entrySize: number;
  readonly base: number;
  /** Bytes allocated (level 1 when indirect). */
  readonly bytes: number;
  readonly indirect: boolean;
}

/** The device and collection tables of one ITS. */
export class ItsTables {
  device: ItsBaserTable | undefined;
  collection: ItsBaserTable | undefined;
  /** DeviceID bits (GITS_TYPER.Devbits + 1). */
  #devBits = 16;

  constructor(private readonly its: number) {}

  /** its_alloc_tables(): every implemented BASER of a type the driver uses. False when RAM ran out. */
  *allocate(pages: KernelPages, devBits: number): GuestCode<boolean> {
    this.#devBits = devBits;
    for (let n = 0; n < GITS_BASER_NR_REGS; n++) {
      const reg = this.its + GITS_BASER + 8 * n;
      const hi = (yield op.read(reg, 8)).hi;
      const type = (hi >>> 24) & 7;
      const esz = ((hi >>> 16) & 0x1f) + 1;
      if (type !== GITS_BASER_TYPE_DEVICE && type !== GITS_BASER_TYPE_COLLECTION) continue;
      let indirect = false;
      let bytes = SZ_64K;
      if (type === GITS_BASER_TYPE_DEVICE) {
        // its_parse_indirect_baser(): write Indirect and see whether it sticks.
        yield op.write(reg, 8, INNER_SHAREABLE | PAGE_SIZE_64K, (hi & 0x071f_0000) | HI_RAWAWB | GITS_BASER_HI_INDIRECT);
        indirect = ((yield op.read(reg, 8)).hi & GITS_BASER_HI_INDIRECT) !== 0;
        let ids = devBits;
        let entry = esz;
        if (indirect) {
          ids -= Math.log2(SZ_64K / esz);
          entry = GITS_LVL1_ENTRY_SIZE;
        }
        bytes = Math.max(SZ_64K, Math.ceil((entry * 2 ** Math.max(ids, 0)) / SZ_64K) * SZ_64K);
        bytes = Math.min(bytes, GITS_BASER_PAGES_MAX * SZ_64K);
      }
      const base = yield* pages.alloc(bytes, SZ_64K);
      if (base === undefined) return false;
      const lo = ((base % 2 ** 32 & 0xffff_0000) | (Math.floor(base / 2 ** 48) & 0xf) << 12 | INNER_SHAREABLE | PAGE_SIZE_64K | (bytes / SZ_64K - 1)) >>> 0;
      const whi = ((Math.floor(base / 2 ** 32) & 0xffff) | (hi & 0x071f_0000) | HI_RAWAWB | (indirect ? GITS_BASER_HI_INDIRECT : 0) | GITS_BASER_HI_VALID) >>> 0;
      yield op.write(reg, 8, lo, whi);
      const back = yield op.read(reg, 8);
      // Linux retries with a smaller page size when the ITS does not take 64 KiB; KVM and QEMU both take it.
      if ((back.value & PAGE_SIZE_MASK) !== PAGE_SIZE_64K) return false;
      const t: ItsBaserTable = { index: n, type, entrySize: esz, base, bytes, indirect: (back.hi & GITS_BASER_HI_INDIRECT) !== 0 };
      if (type === GITS_BASER_TYPE_DEVICE) this.device = t;
      else this.collection = t;
    }
    return true;
  }

  /**
   * its_alloc_device_table() / its_alloc_table_entry(): whether `devId` fits
   * the device table, allocating its level-2 page on first use.
   */
  *allocDevice(devId: number, pages: KernelPages): GuestCode<boolean> {
    if (devId >= 2 ** this.#devBits) return false;
    const t = this.device;
    if (t === undefined) return true;
    if (!t.indirect) return devId < t.bytes / t.entrySize;
    const idx = Math.floor(devId / (SZ_64K / t.entrySize));
    if (idx >= t.bytes / GITS_LVL1_ENTRY_SIZE) return false;
    const l1 = t.base + idx * GITS_LVL1_ENTRY_SIZE;
    const cur = yield op.read(l1, 8);
    if (cur.value !== 0 || cur.hi !== 0) return true;
    const page = yield* pages.alloc(SZ_64K, SZ_64K);
    if (page === undefined) return false;
    yield op.write(l1, 8, page % 2 ** 32, (Math.floor(page / 2 ** 32) | GITS_BASER_HI_VALID) >>> 0);
    return true;
  }
}
