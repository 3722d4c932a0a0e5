/**
 * toDts: devicetree source text of a parsed tree, laid out byte for byte as
 * `dtc -I dtb -O dts` prints it (dtc treesource.c: dt_to_source(),
 * write_tree_source_node(), write_propval(), guess_value_type()).
 *
 * A blob carries no types, so dtc guesses each value's and so does this:
 * - a string (list) when the value ends with NUL, every byte is printable
 *   ASCII, NUL or one of \a \b \t \n \v \f \r, and NULs are no more than the
 *   other bytes: `"a"`, and a list as `"a", "b"` (dtc 1.7.1 and later) or as
 *   one string with embedded `\0` (dtc 1.5.0 to 1.7.0; option `stringLists`);
 * - else u32 cells when the length is a multiple of 4: `<0x01 0x8000000>`
 *   (dtc prints "0x%02x", so small values get two digits);
 * - else bytes: `[01 02 ff]`.
 * An empty property is `name;`. Nodes and properties keep blob order; tabs
 * indent; a blank line precedes every child node; memory reservations are
 * `/memreserve/` lines with 16 hex digits. Like dtc, a `name` property equal to
 * the node's node-name is left out (dtc's name_properties check deletes it).
 *
 * Not reproduced: what dtc 1.8 rebuilds from `__symbols__`, `__fixups__` and
 * `__local_fixups__` nodes (labels, `&label` references, `/plugin/;`), which
 * only overlay blobs compiled with `dtc -@` carry; QEMU's trees have none.
 */

import { baseName } from "./fdt-names.js";
import type { FdtNode } from "./fdt-node.js";
import type { Fdt } from "./fdt-tree.js";

/** Options of toDts. */
export interface DtsOptions {
  /**
   * How a value guessed to be several strings is printed. "split" (default):
   * `"a", "b"`, as dtc 1.7.1 and later print it. "joined": `"a\0b"`, as dtc
   * 1.5.0 to 1.7.0 print it (Debian 12 ships dtc 1.6.1).
   */
  stringLists?: "split" | "joined";
}

/** The tree as DTS text, exactly as `dtc -I dtb -O dts` would print the blob. */
export function toDts(fdt: Fdt, options: DtsOptions = {}): string {
  const out: string[] = ["/dts-v1/;\n\n"];
  for (const r of fdt.memReserve) out.push(`/memreserve/\t0x${hex64(r.address)} 0x${hex64(r.size)};\n`);
  writeNode(out, fdt.root, 0, options);
  return out.join("");
}

/**
 * One property value as dtc prints it after the property name: ";" when empty,
 * else " = " and the guessed form and ";". Exported for tests and for tools
 * that print single properties.
 */
export function formatDtsValue(value: Uint8Array, options: DtsOptions = {}): string {
  if (value.length === 0) return ";";
  const split = (options.stringLists ?? "split") === "split";
  switch (guessType(value)) {
    case "string":
      return ` = ${stringChunks(value, split).map(quote).join(", ")};`;
    case "cells":
      return ` = <${cells(value)}>;`;
    case "bytes":
      return ` = [${[...value].map((b) => b.toString(16).padStart(2, "0")).join(" ")}];`;
  }
}

function writeNode(out: string[], node: FdtNode, level: number, options: DtsOptions): void {
  const indent = "\t".repeat(level);
  out.push(`${indent}${node.name === "" ? "/" : node.name} {\n`);
  for (const [name, value] of node.properties) {
    if (name === "name" && isRedundantName(node, value)) continue;
    out.push(`${indent}\t${name}${formatDtsValue(value, options)}\n`);
  }
  for (const child of node.children) {
    out.push("\n");
    writeNode(out, child, level + 1, options); // depth is bounded by FDT_MAX_DEPTH
  }
  out.push(`${indent}};\n`);
}

// dtc's check_name_properties() deletes a `name` property whose value is the
// node-name (dtc compares the first basenamelen bytes and the length) as one string.
function isRedundantName(node: FdtNode, value: Uint8Array): boolean {
  const base = baseName(node.name);
  if (value.length !== base.length + 1 || value[base.length] !== 0) return false;
  for (let i = 0; i < base.length; i++) if (value[i] !== base.charCodeAt(i)) return false;
  return true;
}

// C-locale isprint(), or NUL, or one of the escapes dtc prints.
function isStringByte(b: number): boolean {
  return (b >= 0x20 && b <= 0x7e) || b === 0 || (b >= 0x07 && b <= 0x0d);
}

function guessType(value: Uint8Array): "string" | "cells" | "bytes" {
  let nul = 0;
  let notString = 0;
  for (const b of value) {
    if (b === 0) nul++;
    if (!isStringByte(b)) notString++;
  }
  if (value[value.length - 1] === 0 && notString === 0 && nul <= value.length - nul) return "string";
  return value.length % 4 === 0 ? "cells" : "bytes";
}

// The value split where dtc 1.7.1+ puts string markers: after each NUL, when
// there is more than one NUL. Each chunk keeps its own terminating NUL.
function stringChunks(value: Uint8Array, split: boolean): Uint8Array[] {
  if (!split) return [value];
  const chunks: Uint8Array[] = [];
  let start = 0;
  for (let i = 0; i < value.length; i++) {
    if (value[i] === 0) {
      chunks.push(value.subarray(start, i + 1));
      start = i + 1;
    }
  }
  return chunks;
}

const ESCAPES: ReadonlyMap<number, string> = new Map([
  [0x07, "\\a"],
  [0x08, "\\b"],
  [0x09, "\\t"],
  [0x0a, "\\n"],
  [0x0b, "\\v"],
  [0x0c, "\\f"],
  [0x0d, "\\r"],
  [0x5c, "\\\\"],
  [0x22, '\\"'],
  [0x00, "\\0"],
]);

// write_propval_string(): the bytes before the final NUL, escaped, in quotes.
function quote(chunk: Uint8Array): string {
  let s = '"';
  for (let i = 0; i < chunk.length - 1; i++) {
    const b = chunk[i]!;
    const esc = ESCAPES.get(b);
    if (esc !== undefined) s += esc;
    else if (b >= 0x20 && b <= 0x7e) s += String.fromCharCode(b);
    else s += `\\x${b.toString(16).padStart(2, "0")}`; // not reached for guessed strings; kept for completeness
  }
  return `${s}"`;
}

function cells(value: Uint8Array): string {
  const dv = new DataView(value.buffer, value.byteOffset, value.byteLength);
  const out: string[] = [];
  for (let i = 0; i < value.length; i += 4) out.push(`0x${dv.getUint32(i).toString(16).padStart(2, "0")}`);
  return out.join(" ");
}

function hex64(v: bigint): string {
  return v.toString(16).padStart(16, "0");
}
