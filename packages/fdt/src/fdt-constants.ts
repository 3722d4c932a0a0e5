/**
 * Numbers of the flattened devicetree format: the header layout, the structure
 * block tokens, the version this package writes and the limits it enforces.
 *
 * Source: Devicetree Specification v0.4, chapter 5 "Flattened Devicetree (DTB)
 * Format" (§5.2 header, §5.3 memory reservation block, §5.4 structure block),
 * and chapter 2 §2.2.1 / §2.2.4 for the name rules. Names follow libfdt's
 * `fdt.h` so that they can be looked up there.
 */

/** `fdt_header.magic`: the first word of every blob, big-endian (§5.2). */
export const FDT_MAGIC = 0xd00dfeed;

/** Structure block token: start of a node, followed by its NUL-terminated name (§5.4.1). */
export const FDT_BEGIN_NODE = 0x1;
/** Structure block token: end of the node most recently begun (§5.4.1). */
export const FDT_END_NODE = 0x2;
/** Structure block token: a property, followed by `len`, `nameoff` and the value (§5.4.1). */
export const FDT_PROP = 0x3;
/** Structure block token: ignored by readers; lets a tool blank out a node or property (§5.4.1). */
export const FDT_NOP = 0x4;
/** Structure block token: the last token of the structure block (§5.4.1). */
export const FDT_END = 0x9;

/** The format version this package writes (§5.1: the specification describes version 17). */
export const FDT_VERSION = 17;
/** `last_comp_version` this package writes: version 17 is backwards compatible with 16 (§5.2). */
export const FDT_LAST_COMP_VERSION = 16;
/** The oldest version the reader accepts: 16 gave names without full paths and added FDT_NOP. */
export const FDT_FIRST_SUPPORTED_VERSION = 16;

/** Size in bytes of a version 17 header (ten 32-bit fields). */
export const FDT_HEADER_SIZE = 40;
/** Size in bytes of a version 16 header, which has no `size_dt_struct` (libfdt `FDT_V16_SIZE`). */
export const FDT_V16_HEADER_SIZE = 36;
/** Size in bytes of one `fdt_reserve_entry` (two big-endian u64: address, size) (§5.3.2). */
export const FDT_RESERVE_ENTRY_SIZE = 16;

/**
 * Deepest nesting of nodes, the root counting as level 1. Linux unflattens a
 * tree with the same bound (`FDT_MAX_DEPTH` in drivers/of/fdt.c), so a deeper
 * tree would not boot anyway; the reader refuses one instead of recursing.
 */
export const FDT_MAX_DEPTH = 64;

/** Longest node-name (the part before '@') and longest property name (§2.2.1, §2.2.4.1). */
export const FDT_MAX_NAME_LENGTH = 31;

/** Byte offsets of the `fdt_header` fields (§5.2), each a big-endian u32. */
export const FdtHeaderOffset = {
  magic: 0,
  totalsize: 4,
  offDtStruct: 8,
  offDtStrings: 12,
  offMemRsvmap: 16,
  version: 20,
  lastCompVersion: 24,
  bootCpuidPhys: 28,
  sizeDtStrings: 32,
  sizeDtStruct: 36,
} as const;

/** Name of a structure block token for messages, or its value in hex when it is not one. */
export function tokenName(token: number): string {
  switch (token) {
    case FDT_BEGIN_NODE:
      return "FDT_BEGIN_NODE";
    case FDT_END_NODE:
      return "FDT_END_NODE";
    case FDT_PROP:
      return "FDT_PROP";
    case FDT_NOP:
      return "FDT_NOP";
    case FDT_END:
      return "FDT_END";
    default:
      return `0x${token.toString(16).padStart(8, "0")}`;
  }
}

/**
 * The next multiple of 4 at or after `offset`: where the token after some data
 * starts. Arithmetic, not `& ~3`, because offsets plus a hostile 32-bit length
 * can exceed 2^31, where JavaScript's bitwise operators would wrap.
 */
export function align4(offset: number): number {
  return offset + ((4 - (offset % 4)) % 4);
}
