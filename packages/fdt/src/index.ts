/**
 * @irqlab/fdt — an exact writer and reader of flattened devicetree blobs (DTB
 * format version 17, last compatible version 16; Devicetree Specification v0.4
 * chapter 5), with dtc's DTS printer for them. It depends on nothing.
 *
 * - FdtWriter builds a blob by sequential calls (beginNode, property*, endNode,
 *   finish), refusing names, values and structures that the specification or
 *   dtc would reject; writeFdt writes a parsed tree out again.
 * - parseFdt reads a blob from anyone — QEMU, dtc, this writer, a hostile
 *   guest image — and throws FdtError naming the fault and its offset when it
 *   is malformed; the Fdt and FdtNode it returns answer by path, alias,
 *   phandle and compatible, with typed property accessors.
 * - toDts prints a parsed tree as `dtc -I dtb -O dts` does, byte for byte.
 *
 * @packageDocumentation
 */

export { FdtError } from "./fdt-error.js";
export {
  FDT_MAGIC,
  FDT_BEGIN_NODE,
  FDT_END_NODE,
  FDT_PROP,
  FDT_NOP,
  FDT_END,
  FDT_VERSION,
  FDT_LAST_COMP_VERSION,
  FDT_FIRST_SUPPORTED_VERSION,
  FDT_HEADER_SIZE,
  FDT_MAX_DEPTH,
  FDT_MAX_NAME_LENGTH,
  FdtHeaderOffset,
} from "./fdt-constants.js";
export { FdtWriter, writeFdt, type FdtWriterOptions } from "./fdt-writer.js";
export { parseFdt } from "./fdt-reader.js";
export type { Fdt, FdtMemReserve } from "./fdt-tree.js";
export { FdtNode } from "./fdt-node.js";
export { toDts, formatDtsValue, type DtsOptions } from "./fdt-dts.js";
