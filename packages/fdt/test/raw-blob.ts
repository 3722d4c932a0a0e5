/**
 * Test kit: assembles blobs token by token, valid or not, with any header
 * field overridden, so that each of parseFdt's checks can be hit on purpose.
 * Also pokes big-endian words into existing blobs.
 */

import { FDT_BEGIN_NODE, FDT_END, FDT_END_NODE, FDT_NOP, FDT_PROP, FdtHeaderOffset } from "../src/fdt-constants.js";

/** A structure block under construction: tokens, names, values, padding. */
export class Tokens {
  readonly #bytes: number[] = [];

  /** Offset of the next token from the start of the structure block. */
  get length(): number {
    return this.#bytes.length;
  }

  /** Any 32-bit word, big-endian. */
  word(w: number): this {
    this.#bytes.push((w >>> 24) & 0xff, (w >>> 16) & 0xff, (w >>> 8) & 0xff, w & 0xff);
    return this;
  }

  /** Raw bytes, then zero padding to 4. */
  data(bytes: readonly number[] | Uint8Array): this {
    for (const b of bytes) this.#bytes.push(b);
    while (this.#bytes.length % 4 !== 0) this.#bytes.push(0);
    return this;
  }

  /** FDT_BEGIN_NODE and its NUL-terminated name. */
  begin(name: string): this {
    return this.word(FDT_BEGIN_NODE).data([...Buffer.from(name, "latin1"), 0]);
  }

  /** FDT_END_NODE. */
  end(): this {
    return this.word(FDT_END_NODE);
  }

  /** FDT_PROP with a name offset into the strings block and a value. */
  prop(nameoff: number, value: readonly number[] | Uint8Array = []): this {
    return this.word(FDT_PROP).word(value.length).word(nameoff).data(value);
  }

  /** FDT_NOP. */
  nop(): this {
    return this.word(FDT_NOP);
  }

  /** FDT_END. */
  finish(): this {
    return this.word(FDT_END);
  }

  /** The block's bytes. */
  bytes(): Uint8Array {
    return new Uint8Array(this.#bytes);
  }
}

/** What rawBlob lays out; header fields not given are computed as FdtWriter would. */
export interface RawBlob {
  struct: Tokens | Uint8Array;
  strings?: string;
  memReserve?: readonly (readonly [bigint, bigint])[];
  /** Header fields to force, by FdtHeaderOffset name. */
  header?: Partial<Record<keyof typeof FdtHeaderOffset, number>>;
  /** Bytes to append after totalsize (not part of the blob). */
  trailing?: number;
}

/** Header, reservations (with terminator), structure, strings; then forced header fields. */
export function rawBlob(spec: RawBlob): Uint8Array {
  const struct = spec.struct instanceof Tokens ? spec.struct.bytes() : spec.struct;
  const strings = Buffer.from(spec.strings ?? "", "latin1");
  const mem = spec.memReserve ?? [];
  const offMem = 40;
  const offStruct = offMem + (mem.length + 1) * 16;
  const offStrings = offStruct + struct.length;
  const totalsize = offStrings + strings.length;
  const out = new Uint8Array(totalsize + (spec.trailing ?? 0));
  const dv = new DataView(out.buffer);
  const fields: Record<keyof typeof FdtHeaderOffset, number> = {
    magic: 0xd00dfeed,
    totalsize,
    offDtStruct: offStruct,
    offDtStrings: offStrings,
    offMemRsvmap: offMem,
    version: 17,
    lastCompVersion: 16,
    bootCpuidPhys: 0,
    sizeDtStrings: strings.length,
    sizeDtStruct: struct.length,
    ...spec.header,
  };
  for (const [k, off] of Object.entries(FdtHeaderOffset)) dv.setUint32(off, fields[k as keyof typeof FdtHeaderOffset] >>> 0);
  mem.forEach(([a, s], i) => {
    dv.setBigUint64(offMem + i * 16, a);
    dv.setBigUint64(offMem + i * 16 + 8, s);
  });
  out.set(struct, offStruct);
  out.set(strings, offStrings);
  return out;
}

/** A copy of `blob` with the big-endian word at `offset` replaced. */
export function withWord(blob: Uint8Array, offset: number, value: number): Uint8Array {
  const copy = blob.slice();
  new DataView(copy.buffer).setUint32(offset, value >>> 0);
  return copy;
}

/** The big-endian word at `offset`. */
export function wordAt(blob: Uint8Array, offset: number): number {
  return new DataView(blob.buffer, blob.byteOffset, blob.byteLength).getUint32(offset);
}
