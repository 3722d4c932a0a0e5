/**
 * Node and property names: what the Devicetree Specification v0.4 allows
 * (§2.2.1 "Node Names", §2.2.4.1 "Property Names"), checked by the writer
 * before anything reaches the blob, and the path arithmetic shared by the
 * writer and the reader.
 *
 * The writer holds names to the specification, which is a little stricter than
 * dtc: a node-name must start with a letter (dtc accepts any of its characters
 * first) and a property name may not contain '*' (dtc accepts it). Everything
 * the writer accepts is therefore accepted by dtc without an error. dtc's
 * optional checks `node_name_chars_strict` / `property_name_chars_strict`
 * (off by default) would still flag '.', '_', '+', '?' and '#', which the
 * specification allows.
 * Cross-check: dtc checks.c (`NODECHARS`, `PROPCHARS`, `check_node_name_*`).
 */

import { FDT_MAX_NAME_LENGTH } from "./fdt-constants.js";
import { FdtError, showChar } from "./fdt-error.js";

/** Table 2.1 "Valid characters for node names". */
const NODE_NAME_CHAR = /^[0-9a-zA-Z,._+-]$/;
/** Table 2.2 "Valid characters for property names". */
const PROPERTY_NAME_CHAR = /^[0-9a-zA-Z,._+?#-]$/;
const LETTER = /^[a-zA-Z]$/;

/** The node-name part of a full node name: everything before the first '@'. */
export function baseName(name: string): string {
  const at = name.indexOf("@");
  return at < 0 ? name : name.slice(0, at);
}

/** The unit address of a full node name (after the first '@'), or undefined without one. */
export function unitAddress(name: string): string | undefined {
  const at = name.indexOf("@");
  return at < 0 ? undefined : name.slice(at + 1);
}

/** Path of a child node: "/" for the root itself, "/cpus" under the root, "/cpus/cpu@0" deeper. */
export function childPath(parentPath: string | undefined, name: string): string {
  if (parentPath === undefined) return "/";
  return parentPath === "/" ? `/${name}` : `${parentPath}/${name}`;
}

/**
 * Throws FdtError unless `name` is a valid non-root node name: a node-name of
 * 1 to 31 characters from Table 2.1 that starts with a letter, optionally
 * followed by '@' and a non-empty unit address from the same characters.
 */
export function checkNodeName(name: string, parentPath: string): void {
  const bad = (why: string): FdtError => new FdtError(`fdt: bad node name '${name}' in ${parentPath}: ${why}`);
  if (name === "") {
    throw new FdtError(`fdt: empty node name in ${parentPath}: only the root is unnamed, and it is begun first`);
  }
  const at = name.indexOf("@");
  const base = at < 0 ? name : name.slice(0, at);
  const unit = at < 0 ? undefined : name.slice(at + 1);
  if (base === "") throw bad("the node-name before '@' is empty");
  for (const ch of base) {
    if (!NODE_NAME_CHAR.test(ch)) throw bad(`character ${showChar(ch)} is not allowed (node names use 0-9 a-z A-Z , . _ + -)`);
  }
  if (!LETTER.test(base[0] ?? "")) throw bad("a node-name must start with a letter");
  if (base.length > FDT_MAX_NAME_LENGTH) {
    throw bad(`the node-name before '@' is ${base.length} characters; at most ${FDT_MAX_NAME_LENGTH} are allowed`);
  }
  if (unit === undefined) return;
  if (unit === "") throw bad("the unit address after '@' is empty");
  for (const ch of unit) {
    if (ch === "@") throw bad("a node name has at most one '@'");
    if (!NODE_NAME_CHAR.test(ch)) {
      throw bad(`character ${showChar(ch)} is not allowed in the unit address (0-9 a-z A-Z , . _ + -)`);
    }
  }
}

/** Throws FdtError unless `name` is 1 to 31 characters from Table 2.2. */
export function checkPropertyName(name: string, nodePath: string): void {
  const bad = (why: string): FdtError => new FdtError(`fdt: bad property name '${name}' in ${nodePath}: ${why}`);
  if (name === "") throw new FdtError(`fdt: empty property name in ${nodePath}`);
  for (const ch of name) {
    if (!PROPERTY_NAME_CHAR.test(ch)) {
      throw bad(`character ${showChar(ch)} is not allowed (property names use 0-9 a-z A-Z , . _ + ? # -)`);
    }
  }
  if (name.length > FDT_MAX_NAME_LENGTH) {
    throw bad(`it is ${name.length} characters; at most ${FDT_MAX_NAME_LENGTH} are allowed`);
  }
}

/**
 * Reads a NUL-terminated name the reader found at `start` (up to `end`, the
 * offset of its NUL) as a JavaScript string. Names in a blob are bytes; this
 * package keeps them exact by allowing only printable ASCII other than space,
 * which covers every character the specification allows and then some (dtc's
 * '*', '#' in node names). `what` says which name, for the error.
 */
export function decodeName(blob: Uint8Array, start: number, end: number, what: string): string {
  let name = "";
  for (let i = start; i < end; i++) {
    const b = blob[i]!;
    if (b < 0x21 || b > 0x7e) {
      throw new FdtError(
        `fdt: ${what} at offset 0x${start.toString(16)} has byte 0x${b.toString(16).padStart(2, "0")} at offset 0x${i.toString(16)}, not a printable ASCII character`,
        i,
      );
    }
    name += String.fromCharCode(b);
  }
  return name;
}
