/**
 * Reading the device tree blob out of guest RAM, as the first thing a kernel
 * does with the address its boot register holds (arm64:
 * Documentation/arch/arm64/booting.rst §2 "the dtb must be placed on an
 * 8-byte boundary and must not exceed 2 megabytes in size";
 * setup_machine_fdt() refuses anything else with "Error: invalid device tree
 * blob"). The same bounds are applied on riscv64, whose loader also reads the
 * blob with aligned 8-byte loads.
 *
 * The header's magic and totalsize are checked before anything else is read;
 * then the blob is copied with 8-byte loads (RAM accesses, which cost a guest
 * instruction each and never exit) and parsed with @irqlab/fdt. RAM is
 * little-endian on both architectures while the blob is big-endian, so the
 * header words are byte-swapped as be32_to_cpu() does.
 */

import { FDT_HEADER_SIZE, FDT_MAGIC, FdtError, parseFdt, type Fdt } from "@irqlab/fdt";
import { op } from "@irqlab/sim";
import type { GuestCode } from "../guest-image.js";
import { hex } from "./dt-read.js";

/** The largest blob accepted (arm64 MAX_FDT_SIZE, SZ_2M). */
export const MAX_FDT_SIZE = 2 * 1024 * 1024;

/** A blob read and parsed, or why not. */
export type FdtLoadResult =
  | { readonly ok: true; readonly fdt: Fdt; readonly address: number; readonly size: number }
  | { readonly ok: false; readonly message: string };

/** be32_to_cpu of a word loaded little-endian. */
export function swab32(v: number): number {
  return (((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24)) >>> 0;
}

/** Reads the blob at guest-physical `address` from RAM and parses it. */
export function* loadFdt(address: number): GuestCode<FdtLoadResult> {
  const where = `invalid device tree blob at physical address ${hex(address)}`;
  if (!Number.isSafeInteger(address) || address <= 0 || address % 8 !== 0) {
    return { ok: false, message: `${where}: the dtb must be 8-byte aligned` };
  }
  const head = yield op.read(address, 8);
  const magic = swab32(head.value);
  const totalsize = swab32(head.hi);
  if (magic !== FDT_MAGIC) return { ok: false, message: `${where}: bad magic ${hex(magic)} (expected ${hex(FDT_MAGIC)})` };
  if (totalsize < FDT_HEADER_SIZE || totalsize > MAX_FDT_SIZE) {
    return { ok: false, message: `${where}: totalsize ${hex(totalsize)} is not between the header size and 2 MiB` };
  }
  const blob = new Uint8Array(totalsize);
  putWord(blob, 0, head.value, head.hi);
  for (let off = 8; off < totalsize; off += 8) {
    const r = yield op.read(address + off, 8);
    putWord(blob, off, r.value, r.hi);
  }
  return checkFdt(blob, address);
}

/** Parses a blob already read (the part of {@link loadFdt} after the loads). */
export function checkFdt(blob: Uint8Array, address: number): FdtLoadResult {
  try {
    return { ok: true, fdt: parseFdt(blob), address, size: blob.length };
  } catch (e) {
    if (e instanceof FdtError) return { ok: false, message: `invalid device tree blob at physical address ${hex(address)}: ${e.message}` };
    throw e;
  }
}

/** Stores a little-endian 8-byte load's two halves at `off`, clipped to the blob. */
function putWord(blob: Uint8Array, off: number, lo: number, hi: number): void {
  for (let i = 0; i < 8 && off + i < blob.length; i++) {
    const word = i < 4 ? lo : hi;
    blob[off + i] = (word >>> ((i % 4) * 8)) & 0xff;
  }
}
