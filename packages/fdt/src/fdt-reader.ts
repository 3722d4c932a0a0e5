/**
 * parseFdt: reads a flattened devicetree blob (Devicetree Specification v0.4
 * chapter 5) of version 16 or 17 — or a later version that declares itself
 * backwards compatible with 17 — into an Fdt.
 *
 * The blob is untrusted. Every offset and size in the header is checked
 * against `totalsize` and the buffer before it is used, every token against
 * the end of the structure block, every name offset against the strings block;
 * names must be NUL-terminated inside their block; nesting is bounded by
 * FDT_MAX_DEPTH and the walk is a loop with an explicit stack, so it always
 * ends. Anything wrong is an FdtError naming the problem and its byte offset
 * in the blob. Cross-check: libfdt fdt_check_header() and fdt_check_full(),
 * dtc flattree.c dt_from_blob().
 *
 * Beyond well-formedness the reader refuses what would make its answers
 * ambiguous or different from what libfdt and Linux see: a property after a
 * child node (libfdt's property iterator stops at the first subnode; §5.4.2
 * puts properties first), duplicate property or child names, a root with a
 * name, a phandle that is not one u32, is reserved, is used twice or disagrees
 * with `linux,phandle`, blocks that overlap, and anything but FDT_NOP between
 * the root's FDT_END_NODE and FDT_END or after FDT_END inside the block.
 * It accepts FDT_NOP anywhere a token may stand, free space between blocks,
 * bytes past `totalsize` in the buffer (QEMU's -M dumpdtb leaves some), and
 * non-zero padding (libfdt and dtc ignore it, and it changes no value).
 */

import {
  FDT_BEGIN_NODE,
  FDT_END,
  FDT_END_NODE,
  FDT_FIRST_SUPPORTED_VERSION,
  FDT_HEADER_SIZE,
  FDT_MAGIC,
  FDT_MAX_DEPTH,
  FDT_NOP,
  FDT_PROP,
  FDT_RESERVE_ENTRY_SIZE,
  FDT_V16_HEADER_SIZE,
  FDT_VERSION,
  FdtHeaderOffset as H,
  align4,
  tokenName,
} from "./fdt-constants.js";
import { FdtError, hex, hex32 } from "./fdt-error.js";
import { decodeName } from "./fdt-names.js";
import { FdtNode } from "./fdt-node.js";
import { FdtTree, type Fdt, type FdtMemReserve } from "./fdt-tree.js";

/** The header, checked: every block lies inside [header end, totalsize]. */
interface Header {
  readonly totalsize: number;
  readonly headerSize: number;
  readonly offDtStruct: number;
  readonly offDtStrings: number;
  readonly offMemRsvmap: number;
  readonly version: number;
  readonly lastCompVersion: number;
  readonly bootCpuidPhys: number;
  readonly sizeDtStrings: number;
  /** Undefined for version 16, whose header has no size_dt_struct. */
  readonly sizeDtStruct: number | undefined;
}

// A node whose FDT_END_NODE has not been read yet.
interface Frame {
  readonly node: FdtNode;
  readonly properties: Map<string, Uint8Array>;
  readonly children: FdtNode[];
  readonly childNames: Set<string>;
  hasChildren: boolean;
  phandle: number | undefined;
}

/**
 * Parses a DTB. The buffer may be longer than the blob's `totalsize`; bytes
 * beyond it are ignored. Property values are copies, so changing them does
 * not change `blob` and the other way round. Throws FdtError, and nothing
 * else, on malformed input.
 */
export function parseFdt(blob: Uint8Array): Fdt {
  if (!(blob instanceof Uint8Array)) throw new FdtError("fdt: parseFdt() needs the blob as a Uint8Array");
  const dv = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  const h = readHeader(blob, dv);
  const memReserve = readMemReserve(dv, h);
  const { root, byPhandle, structEnd } = readStructure(blob, dv, h);
  checkDisjoint([
    ["memory reservation block", h.offMemRsvmap, h.offMemRsvmap + (memReserve.length + 1) * FDT_RESERVE_ENTRY_SIZE],
    ["structure block", h.offDtStruct, structEnd],
    ["strings block", h.offDtStrings, h.offDtStrings + h.sizeDtStrings],
  ]);
  return new FdtTree(h, memReserve, root, byPhandle);
}

function readHeader(blob: Uint8Array, dv: DataView): Header {
  if (blob.length < 4) throw new FdtError(`fdt: blob is ${blob.length} bytes, too short for the magic number`, 0);
  const magic = dv.getUint32(H.magic);
  if (magic !== FDT_MAGIC) throw new FdtError(`fdt: bad magic ${hex32(magic)} (expected ${hex32(FDT_MAGIC)})`, 0);
  if (blob.length < FDT_HEADER_SIZE) {
    throw new FdtError(`fdt: blob is ${blob.length} bytes, shorter than the ${FDT_HEADER_SIZE}-byte header`, blob.length);
  }
  const field = (offset: number): number => dv.getUint32(offset);
  const version = field(H.version);
  const lastCompVersion = field(H.lastCompVersion);
  if (version < FDT_FIRST_SUPPORTED_VERSION) {
    throw new FdtError(`fdt: unsupported version ${version} (this reader handles versions 16 and 17)`, H.version);
  }
  if (lastCompVersion > FDT_VERSION) {
    throw new FdtError(
      `fdt: version ${version} is compatible only back to version ${lastCompVersion}; this reader handles 16 and 17`,
      H.lastCompVersion,
    );
  }
  if (lastCompVersion > version) {
    throw new FdtError(`fdt: last compatible version ${lastCompVersion} is later than version ${version}`, H.lastCompVersion);
  }
  const headerSize = version >= 17 ? FDT_HEADER_SIZE : FDT_V16_HEADER_SIZE;
  const totalsize = field(H.totalsize);
  if (totalsize < headerSize) {
    throw new FdtError(`fdt: totalsize ${hex(totalsize)} is smaller than the ${headerSize}-byte header`, H.totalsize);
  }
  if (totalsize > blob.length) {
    throw new FdtError(
      `fdt: totalsize ${hex(totalsize)} is larger than the ${hex(blob.length)} bytes given: the blob is truncated`,
      H.totalsize,
    );
  }
  const h: Header = {
    totalsize,
    headerSize,
    offDtStruct: field(H.offDtStruct),
    offDtStrings: field(H.offDtStrings),
    offMemRsvmap: field(H.offMemRsvmap),
    version,
    lastCompVersion,
    bootCpuidPhys: field(H.bootCpuidPhys),
    sizeDtStrings: field(H.sizeDtStrings),
    sizeDtStruct: version >= 17 ? field(H.sizeDtStruct) : undefined,
  };
  if (h.offMemRsvmap % 8 !== 0) {
    throw new FdtError(`fdt: memory reservation block offset ${hex(h.offMemRsvmap)} is not 8-byte aligned`, H.offMemRsvmap);
  }
  if (h.offDtStruct % 4 !== 0) {
    throw new FdtError(`fdt: structure block offset ${hex(h.offDtStruct)} is not 4-byte aligned`, H.offDtStruct);
  }
  checkBlock(h, "memory reservation block", h.offMemRsvmap, 0, H.offMemRsvmap);
  checkBlock(h, "structure block", h.offDtStruct, h.sizeDtStruct ?? 0, H.offDtStruct);
  checkBlock(h, "strings block", h.offDtStrings, h.sizeDtStrings, H.offDtStrings);
  return h;
}

// A block [offset, offset + size) must lie between the header and totalsize.
function checkBlock(h: Header, what: string, offset: number, size: number, field: number): void {
  if (offset < h.headerSize || offset > h.totalsize) {
    throw new FdtError(
      `fdt: ${what} offset ${hex(offset)} is outside the blob (after the ${h.headerSize}-byte header, up to totalsize ${hex(h.totalsize)})`,
      field,
    );
  }
  if (offset + size > h.totalsize) {
    throw new FdtError(
      `fdt: ${what} [${hex(offset)}, ${hex(offset + size)}) runs past totalsize ${hex(h.totalsize)}`,
      field,
    );
  }
}

function readMemReserve(dv: DataView, h: Header): FdtMemReserve[] {
  const out: FdtMemReserve[] = [];
  for (let at = h.offMemRsvmap; ; at += FDT_RESERVE_ENTRY_SIZE) {
    if (at + FDT_RESERVE_ENTRY_SIZE > h.totalsize) {
      throw new FdtError(
        `fdt: memory reservation block runs past totalsize ${hex(h.totalsize)} without its terminating entry (entry ${out.length} at offset ${hex(at)})`,
        at,
      );
    }
    const address = dv.getBigUint64(at);
    const size = dv.getBigUint64(at + 8);
    if (size === 0n) {
      if (address === 0n) return out;
      // libfdt and dtc stop at any size of 0; §5.3.2 says the terminator is all zero.
      throw new FdtError(
        `fdt: memory reservation entry ${out.length} at offset ${hex(at)} has size 0 but address ${hex(address)} (the terminating entry is all zero)`,
        at,
      );
    }
    out.push(Object.freeze({ address, size }));
  }
}

function readStructure(
  blob: Uint8Array,
  dv: DataView,
  h: Header,
): { root: FdtNode; byPhandle: Map<number, FdtNode>; structEnd: number } {
  const limit = h.sizeDtStruct === undefined ? h.totalsize : h.offDtStruct + h.sizeDtStruct;
  const limitName = h.sizeDtStruct === undefined ? "totalsize" : "the end of the structure block";
  const stack: Frame[] = [];
  const byPhandle = new Map<number, FdtNode>();
  const names = new Map<number, string>();
  let root: FdtNode | undefined;
  let p = h.offDtStruct;

  const propertyName = (nameoff: number, at: number, path: string): string => {
    const cached = names.get(nameoff);
    if (cached !== undefined) return cached;
    if (nameoff >= h.sizeDtStrings) {
      throw new FdtError(
        `fdt: name offset ${hex(nameoff)} of the property at offset ${hex(at)} in ${path} is outside the strings block (size ${hex(h.sizeDtStrings)})`,
        at,
      );
    }
    const start = h.offDtStrings + nameoff;
    const nul = blob.indexOf(0, start);
    if (nul < 0 || nul >= h.offDtStrings + h.sizeDtStrings) {
      throw new FdtError(
        `fdt: the name of the property at offset ${hex(at)} in ${path} (strings offset ${hex(nameoff)}) is not NUL-terminated inside the strings block`,
        at,
      );
    }
    if (nul === start) throw new FdtError(`fdt: the property at offset ${hex(at)} in ${path} has an empty name`, at);
    const name = decodeName(blob, start, nul, "property name");
    names.set(nameoff, name);
    return name;
  };

  for (;;) {
    const at = p;
    const top = stack.at(-1);
    if (at + 4 > limit) {
      const open = top === undefined ? "" : ` with ${top.node.path} still open`;
      throw new FdtError(`fdt: missing FDT_END: the structure reaches ${limitName} at offset ${hex(limit)}${open}`, at);
    }
    const token = dv.getUint32(at);
    p += 4;
    switch (token) {
      case FDT_BEGIN_NODE: {
        if (root !== undefined && top === undefined) {
          throw new FdtError(`fdt: FDT_BEGIN_NODE at offset ${hex(at)} after the root node ended (expected FDT_END)`, at);
        }
        const nul = blob.indexOf(0, p);
        if (nul < 0 || nul >= limit) {
          throw new FdtError(`fdt: the name of the node at offset ${hex(at)} is not NUL-terminated inside the structure block`, at);
        }
        const name = decodeName(blob, p, nul, "node name");
        if (top === undefined) {
          if (name !== "") throw new FdtError(`fdt: the root node at offset ${hex(at)} is named '${name}'; the root's name is empty`, at);
        } else {
          const where = `in ${top.node.path} at offset ${hex(at)}`;
          if (name === "") throw new FdtError(`fdt: node with an empty name ${where}`, at);
          if (name.includes("/")) throw new FdtError(`fdt: node name '${name}' ${where} contains '/'`, at);
          if (top.childNames.has(name)) throw new FdtError(`fdt: duplicate node '${name}' ${where}`, at);
          if (stack.length >= FDT_MAX_DEPTH) throw new FdtError(`fdt: node '${name}' ${where} nests deeper than ${FDT_MAX_DEPTH} levels`, at);
        }
        const properties = new Map<string, Uint8Array>();
        const children: FdtNode[] = [];
        const node = new FdtNode(name, top?.node, properties, children);
        if (top === undefined) {
          root = node;
        } else {
          top.children.push(node);
          top.childNames.add(name);
          top.hasChildren = true;
        }
        stack.push({ node, properties, children, childNames: new Set(), hasChildren: false, phandle: undefined });
        p = align4(nul + 1);
        break;
      }
      case FDT_END_NODE:
        if (stack.pop() === undefined) throw new FdtError(`fdt: FDT_END_NODE without FDT_BEGIN_NODE at offset ${hex(at)}`, at);
        break;
      case FDT_PROP: {
        if (top === undefined) {
          const when = root === undefined ? "before the root node" : "after the root node ended";
          throw new FdtError(`fdt: FDT_PROP at offset ${hex(at)} ${when}`, at);
        }
        const path = top.node.path;
        if (p + 8 > limit) throw new FdtError(`fdt: FDT_PROP at offset ${hex(at)} in ${path} is cut off by ${limitName}`, at);
        const len = dv.getUint32(p);
        const name = propertyName(dv.getUint32(p + 4), at, path);
        p += 8;
        if (p + len > limit) {
          throw new FdtError(
            `fdt: property '${name}' of ${path} runs past the structure block (${len} bytes from offset ${hex(p)}; ${limitName} is ${hex(limit)})`,
            at,
          );
        }
        if (top.hasChildren) {
          throw new FdtError(
            `fdt: property '${name}' of ${path} at offset ${hex(at)} follows a child node; properties come first (Devicetree Specification v0.4 §5.4.2)`,
            at,
          );
        }
        if (top.properties.has(name)) throw new FdtError(`fdt: duplicate property '${name}' in ${path} at offset ${hex(at)}`, at);
        const value = blob.slice(p, p + len);
        if (name === "phandle" || name === "linux,phandle") notePhandle(top, name, value, byPhandle, at);
        top.properties.set(name, value);
        p = align4(p + len);
        break;
      }
      case FDT_NOP:
        break;
      case FDT_END:
        if (root === undefined) throw new FdtError(`fdt: FDT_END at offset ${hex(at)} before the root node`, at);
        if (top !== undefined) {
          throw new FdtError(`fdt: FDT_END at offset ${hex(at)} inside ${top.node.path}, with ${stack.length} node(s) still open`, at);
        }
        if (h.sizeDtStruct !== undefined && p !== limit) {
          throw new FdtError(
            `fdt: ${limit - p} byte(s) after FDT_END at offset ${hex(at)} inside the structure block (FDT_END must be its last token)`,
            at,
          );
        }
        return { root, byPhandle, structEnd: p };
      default: {
        const where = top === undefined ? "" : ` in ${top.node.path}`;
        throw new FdtError(`fdt: bad token ${tokenName(token)} at offset ${hex(at)}${where}`, at);
      }
    }
  }
}

// The checks of dtc's explicit_phandles, so that nodeByPhandle has one answer.
function notePhandle(frame: Frame, name: string, value: Uint8Array, byPhandle: Map<number, FdtNode>, at: number): void {
  const path = frame.node.path;
  if (value.length !== 4) {
    throw new FdtError(`fdt: property '${name}' of ${path} at offset ${hex(at)} is ${value.length} bytes; a phandle is one u32`, at);
  }
  const ph = new DataView(value.buffer, value.byteOffset, 4).getUint32(0);
  if (ph === 0 || ph === 0xffff_ffff) {
    throw new FdtError(`fdt: phandle ${hex(ph)} of ${path} at offset ${hex(at)} is reserved (0 and 0xffffffff are not phandles)`, at);
  }
  if (frame.phandle !== undefined) {
    if (frame.phandle !== ph) {
      throw new FdtError(`fdt: '${name}' ${hex(ph)} of ${path} at offset ${hex(at)} differs from its other phandle ${hex(frame.phandle)}`, at);
    }
    return;
  }
  const other = byPhandle.get(ph);
  if (other !== undefined) throw new FdtError(`fdt: phandle ${hex(ph)} of ${path} at offset ${hex(at)} is also used by ${other.path}`, at);
  byPhandle.set(ph, frame.node);
  frame.phandle = ph;
}

// Blocks may have free space between them but must not share bytes.
function checkDisjoint(blocks: readonly (readonly [string, number, number])[]): void {
  const used = blocks.filter(([, start, end]) => end > start);
  for (const [i, [a, aStart, aEnd]] of used.entries()) {
    for (const [b, bStart, bEnd] of used.slice(i + 1)) {
      if (aStart < bEnd && bStart < aEnd) {
        throw new FdtError(
          `fdt: the ${a} [${hex(aStart)}, ${hex(aEnd)}) overlaps the ${b} [${hex(bStart)}, ${hex(bEnd)})`,
          Math.max(aStart, bStart),
        );
      }
    }
  }
}
