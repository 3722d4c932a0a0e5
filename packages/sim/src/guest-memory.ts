/**
 * Guest physical memory: RAM regions made of 4 KiB pages that exist only once
 * written (a 4 GiB guest that touches 1 MiB costs about 1 MiB, with 8 bytes of
 * page index per 2 MiB of RAM and 4 KiB per 2 MiB written), little-endian
 * accessors of 8, 16, 32 and 64 bits, and bulk copies.
 *
 * An access that is not wholly inside RAM throws {@link GuestMemoryFault}, a
 * typed value the caller turns into the architectural outcome (an external
 * abort, an ITS stall); it is never a crash of the model.
 *
 * Speed: the last two pages touched are cached with their DataViews, so a
 * run of accesses within one page, or alternating between two (a lock word
 * and the data it guards, a command queue and a flag), is a subtraction, a
 * compare or two and a DataView load; only a third page pays for the region
 * lookup.
 */

import { ConfigError, GuestMemoryFault, RegionOverlapError, type AccessKind } from "./errors.js";

/** Size of a guest page in bytes. */
export const PAGE_SIZE = 4096;
const PAGE_SHIFT_DIV = PAGE_SIZE; // pages are found with a division: addresses exceed 2^32
/**
 * A region's pages are indexed in two levels, 512 pages (2 MiB) to a block
 * of the index, made when one of its pages is first written: a flat index
 * would cost 8 bytes for every page of the region up front (a 128 MiB guest's
 * 32768-entry array took most of a millisecond to make, 4 GiB's 8 MiB).
 */
const INDEX_BLOCK_PAGES = 512;
/** What the page cache holds before any access: never matched (its base is −∞), never written. */
const NO_PAGE = new DataView(new ArrayBuffer(8));

interface RamRegion {
  readonly name: string;
  readonly base: number;
  readonly size: number;
  /** Blocks of the page index: page i is `index[⌊i / 512⌋]?.[i mod 512]` (i may exceed 2^32). */
  readonly index: ((DataView | undefined)[] | undefined)[];
}

/** A description of one RAM region, as reported by {@link GuestMemory.regions}. */
export interface RamRegionInfo {
  readonly name: string;
  readonly base: number;
  readonly size: number;
  /** Pages that have been written at least once. */
  readonly residentPages: number;
}

/** Told of each write to the range it watches (see {@link GuestMemory.watchWrites}). */
export interface WriteWatch {
  /** A write touching the range was just made. */
  written(): void;
}

/** Sparse, little-endian guest physical memory. */
export class GuestMemory {
  readonly #regions: RamRegion[] = [];
  // Two-page cache: base address of the page last looked up, or -Infinity when none,
  // and of the one before it (#back*), each with its DataView.
  #cacheBase = Number.NEGATIVE_INFINITY;
  #cacheView: DataView = NO_PAGE;
  #backBase = Number.NEGATIVE_INFINITY;
  #backView: DataView = NO_PAGE;
  // The range whose writes are reported (watchWrites): [#watchLo, #watchHi), empty without a watcher.
  #watchLo = Number.POSITIVE_INFINITY;
  #watchHi = Number.NEGATIVE_INFINITY;
  #watcher: WriteWatch | undefined;

  /**
   * Adds a RAM region. `base` and `size` must be page-aligned, positive and
   * below 2^52; regions may not overlap.
   * @throws ConfigError, RegionOverlapError
   */
  addRam(base: number, size: number, name = "ram"): void {
    if (!Number.isSafeInteger(base) || base < 0 || base % PAGE_SIZE !== 0) {
      throw new ConfigError(`RAM region '${name}': base 0x${base.toString(16)} is not a page-aligned address`);
    }
    if (!Number.isSafeInteger(size) || size <= 0 || size % PAGE_SIZE !== 0) {
      throw new ConfigError(`RAM region '${name}': size ${size} is not a positive multiple of ${PAGE_SIZE}`);
    }
    if (base + size > 2 ** 52) {
      throw new ConfigError(`RAM region '${name}': end 0x${(base + size).toString(16)} is beyond 2^52`);
    }
    for (const r of this.#regions) {
      if (base < r.base + r.size && r.base < base + size) {
        throw new RegionOverlapError(
          name,
          r.name,
          `RAM region '${name}' [0x${base.toString(16)}, 0x${(base + size).toString(16)}) overlaps '${r.name}' [0x${r.base.toString(16)}, 0x${(r.base + r.size).toString(16)})`,
        );
      }
    }
    const blocks = Math.ceil(size / PAGE_SIZE / INDEX_BLOCK_PAGES);
    this.#regions.push({ name, base, size, index: Array.from({ length: blocks }, () => undefined) });
  }

  /** The RAM regions and how many of their pages are resident. */
  regions(): RamRegionInfo[] {
    return this.#regions.map((r) => ({
      name: r.name,
      base: r.base,
      size: r.size,
      residentPages: r.index.reduce((n, block) => n + (block?.reduce((k, p) => (p ? k + 1 : k), 0) ?? 0), 0),
    }));
  }

  /** True if every byte of [addr, addr + length) is RAM. */
  isRam(addr: number, length = 1): boolean {
    const r = this.#regionOf(addr);
    return r !== undefined && addr + length <= r.base + r.size;
  }

  /** Reads an unsigned byte. */
  readU8(addr: number): number {
    let off = addr - this.#cacheBase;
    if (off >= 0 && off < PAGE_SIZE) return this.#cacheView.getUint8(off);
    off = addr - this.#backBase;
    if (off >= 0 && off < PAGE_SIZE) return this.#backView.getUint8(off);
    return this.#slowRead(addr, 1);
  }

  /** Reads an unsigned little-endian 16-bit value. */
  readU16(addr: number): number {
    let off = addr - this.#cacheBase;
    if (off >= 0 && off <= PAGE_SIZE - 2) return this.#cacheView.getUint16(off, true);
    off = addr - this.#backBase;
    if (off >= 0 && off <= PAGE_SIZE - 2) return this.#backView.getUint16(off, true);
    return this.#slowRead(addr, 2);
  }

  /** Reads an unsigned little-endian 32-bit value. */
  readU32(addr: number): number {
    let off = addr - this.#cacheBase;
    if (off >= 0 && off <= PAGE_SIZE - 4) return this.#cacheView.getUint32(off, true);
    off = addr - this.#backBase;
    if (off >= 0 && off <= PAGE_SIZE - 4) return this.#backView.getUint32(off, true);
    return this.#slowRead(addr, 4);
  }

  /**
   * Reads `out.length` little-endian 32-bit words from `addr` on into `out`,
   * as that many {@link readU32} calls would, with the same faults: a
   * device's read of a record in guest memory (an ITS command), looked up
   * once when it lies in one of the two pages accessed last.
   */
  readU32s(addr: number, out: Uint32Array): void {
    const n = out.length;
    let off = addr - this.#cacheBase;
    let view = this.#cacheView;
    if (!(off >= 0 && off <= PAGE_SIZE - 4 * n)) {
      off = addr - this.#backBase;
      view = this.#backView;
      if (!(off >= 0 && off <= PAGE_SIZE - 4 * n)) {
        for (let i = 0; i < n; i++) out[i] = this.readU32(addr + 4 * i);
        return;
      }
    }
    for (let i = 0; i < n; i++) out[i] = view.getUint32(off + 4 * i, true);
  }

  /** Reads a little-endian 64-bit value. */
  readU64(addr: number): bigint {
    const lo = this.readU32(addr);
    const hi = this.readU32(addr + 4);
    return (BigInt(hi) << 32n) | BigInt(lo);
  }

  /** Writes a byte (the low 8 bits of `value`). */
  writeU8(addr: number, value: number): void {
    if (this.watched(addr, 1)) this.#watcher!.written();
    let off = addr - this.#cacheBase;
    if (off >= 0 && off < PAGE_SIZE) {
      this.#cacheView.setUint8(off, value);
      return;
    }
    off = addr - this.#backBase;
    if (off >= 0 && off < PAGE_SIZE) {
      this.#backView.setUint8(off, value);
      return;
    }
    this.#slowWrite(addr, 1, value);
  }

  /** Writes the low 16 bits of `value`, little-endian. */
  writeU16(addr: number, value: number): void {
    if (this.watched(addr, 2)) this.#watcher!.written();
    let off = addr - this.#cacheBase;
    if (off >= 0 && off <= PAGE_SIZE - 2) {
      this.#cacheView.setUint16(off, value, true);
      return;
    }
    off = addr - this.#backBase;
    if (off >= 0 && off <= PAGE_SIZE - 2) {
      this.#backView.setUint16(off, value, true);
      return;
    }
    this.#slowWrite(addr, 2, value);
  }

  /** Writes the low 32 bits of `value`, little-endian. */
  writeU32(addr: number, value: number): void {
    if (this.watched(addr, 4)) this.#watcher!.written();
    let off = addr - this.#cacheBase;
    if (off >= 0 && off <= PAGE_SIZE - 4) {
      this.#cacheView.setUint32(off, value, true);
      return;
    }
    off = addr - this.#backBase;
    if (off >= 0 && off <= PAGE_SIZE - 4) {
      this.#backView.setUint32(off, value, true);
      return;
    }
    this.#slowWrite(addr, 4, value);
  }

  /** Writes a 64-bit value (taken modulo 2^64), little-endian. */
  writeU64(addr: number, value: bigint): void {
    this.#checkRange(addr, 8, "write");
    const v = BigInt.asUintN(64, value);
    this.writeU32(addr, Number(v & 0xffff_ffffn));
    this.writeU32(addr + 4, Number(v >> 32n));
  }

  /** Copies `length` bytes starting at `addr` into a new array. */
  read(addr: number, length: number): Uint8Array {
    const out = new Uint8Array(length);
    this.readInto(addr, out);
    return out;
  }

  /**
   * Copies `dst.length` bytes starting at `addr` into `dst`. Returns how many
   * of them came from pages written before; the rest, from pages never
   * written, are 0. So 0 means every byte read is 0, without looking at them.
   */
  readInto(addr: number, dst: Uint8Array): number {
    const r = this.#checkRange(addr, dst.length, "read");
    let done = 0;
    let backed = 0;
    while (done < dst.length) {
      const a = addr + done;
      const idx = Math.floor((a - r.base) / PAGE_SHIFT_DIV);
      const inPage = (a - r.base) % PAGE_SIZE;
      const n = Math.min(PAGE_SIZE - inPage, dst.length - done);
      const page = pageOf(r, idx);
      if (page) {
        dst.set(new Uint8Array(page.buffer, inPage, n), done);
        backed += n;
      } else dst.fill(0, done, done + n);
      done += n;
    }
    return backed;
  }

  /** Copies `src` into guest memory at `addr`. */
  write(addr: number, src: Uint8Array): void {
    const r = this.#checkRange(addr, src.length, "write");
    if (this.watched(addr, src.length)) this.#watcher!.written();
    let done = 0;
    while (done < src.length) {
      const a = addr + done;
      const idx = Math.floor((a - r.base) / PAGE_SHIFT_DIV);
      const inPage = (a - r.base) % PAGE_SIZE;
      const n = Math.min(PAGE_SIZE - inPage, src.length - done);
      const page = this.#pageForWrite(r, idx);
      new Uint8Array(page.buffer, inPage, n).set(src.subarray(done, done + n));
      done += n;
    }
  }

  /** Sets `length` bytes at `addr` to `byte`. */
  fill(addr: number, length: number, byte = 0): void {
    const r = this.#checkRange(addr, length, "write");
    if (this.watched(addr, length)) this.#watcher!.written();
    let done = 0;
    while (done < length) {
      const a = addr + done;
      const idx = Math.floor((a - r.base) / PAGE_SHIFT_DIV);
      const inPage = (a - r.base) % PAGE_SIZE;
      const n = Math.min(PAGE_SIZE - inPage, length - done);
      // Zero-filling a page that was never written leaves it unallocated.
      if (byte !== 0 || pageOf(r, idx)) new Uint8Array(this.#pageForWrite(r, idx).buffer, inPage, n).fill(byte);
      done += n;
    }
  }

  /**
   * Reports every write that touches [addr, addr + length) to `watcher`,
   * as it is made, until the next call (one range at a time; undefined stops
   * watching). For a model that must know when a word it polls changes.
   */
  watchWrites(watcher: WriteWatch | undefined, addr = 0, length = 0): void {
    this.#watcher = watcher;
    this.#watchLo = watcher === undefined ? Number.POSITIVE_INFINITY : addr;
    this.#watchHi = watcher === undefined ? Number.NEGATIVE_INFINITY : addr + length;
  }

  /** Whether a write to [addr, addr + length) would be reported to a watcher (watchWrites). */
  watched(addr: number, length: number): boolean {
    return addr < this.#watchHi && addr + length > this.#watchLo;
  }

  // ---- slow paths -----------------------------------------------------------

  /** Makes `page` (at `base`) the last page looked up; the one before it moves back. */
  #cache(base: number, page: DataView): void {
    this.#backBase = this.#cacheBase;
    this.#backView = this.#cacheView;
    this.#cacheBase = base;
    this.#cacheView = page;
  }

  #regionOf(addr: number): RamRegion | undefined {
    for (const r of this.#regions) {
      if (addr >= r.base && addr < r.base + r.size) return r;
    }
    return undefined;
  }

  #checkRange(addr: number, length: number, access: AccessKind): RamRegion {
    const r = this.#regionOf(addr);
    if (!r || addr + length > r.base + r.size) throw new GuestMemoryFault(addr, length, access);
    return r;
  }

  #pageForWrite(r: RamRegion, idx: number): DataView {
    const block = (r.index[Math.floor(idx / INDEX_BLOCK_PAGES)] ??= new Array<DataView | undefined>(INDEX_BLOCK_PAGES));
    const i = idx % INDEX_BLOCK_PAGES;
    let page = block[i];
    if (!page) {
      page = new DataView(new ArrayBuffer(PAGE_SIZE));
      block[i] = page;
    }
    return page;
  }

  #slowRead(addr: number, size: number): number {
    const r = this.#checkRange(addr, size, "read");
    const rel = addr - r.base;
    const idx = Math.floor(rel / PAGE_SHIFT_DIV);
    const inPage = rel - idx * PAGE_SIZE;
    if (inPage + size <= PAGE_SIZE) {
      const page = pageOf(r, idx);
      if (!page) return 0;
      this.#cache(r.base + idx * PAGE_SIZE, page);
      return size === 1 ? page.getUint8(inPage) : size === 2 ? page.getUint16(inPage, true) : page.getUint32(inPage, true);
    }
    // Straddles two pages: assemble byte by byte, least significant first.
    let v = 0;
    for (let i = size - 1; i >= 0; i--) v = v * 256 + this.readU8(addr + i);
    return v;
  }

  #slowWrite(addr: number, size: number, value: number): void {
    const r = this.#checkRange(addr, size, "write");
    const rel = addr - r.base;
    const idx = Math.floor(rel / PAGE_SHIFT_DIV);
    const inPage = rel - idx * PAGE_SIZE;
    if (inPage + size <= PAGE_SIZE) {
      const page = this.#pageForWrite(r, idx);
      this.#cache(r.base + idx * PAGE_SIZE, page);
      if (size === 1) page.setUint8(inPage, value);
      else if (size === 2) page.setUint16(inPage, value, true);
      else page.setUint32(inPage, value, true);
      return;
    }
    for (let i = 0; i < size; i++) this.writeU8(addr + i, (value >>> (8 * i)) & 0xff);
  }
}

/** Page `idx` of region `r`, or undefined if it was never written. */
function pageOf(r: RamRegion, idx: number): DataView | undefined {
  return r.index[Math.floor(idx / INDEX_BLOCK_PAGES)]?.[idx % INDEX_BLOCK_PAGES];
}
