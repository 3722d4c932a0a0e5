/**
 * FdtNode: one node of a parsed devicetree, with its properties in blob order
 * and typed accessors for the value types of the Devicetree Specification v0.4
 * §2.2.4.2 (Table 2.3): <u32>, <u64>, <string>, <stringlist>, <prop-encoded-array>
 * as u32 cells, <phandle>.
 *
 * Accessors return undefined when the property is absent and throw FdtError
 * when it is present with the wrong shape (a 3-byte "u32", a string without its
 * NUL): a guest reading its device tree should fail loudly at the bad property,
 * not compute with a truncated value.
 */

import { FdtError } from "./fdt-error.js";
import { baseName, childPath, unitAddress } from "./fdt-names.js";
import { decodeStringList, decodeUtf8 } from "./fdt-values.js";

/** A node of a parsed tree. Built by parseFdt; read-only to everyone else. */
export class FdtNode {
  /** Full name with unit address ("memory@40000000"); "" for the root. */
  readonly name: string;
  /** The parent node; undefined for the root. */
  readonly parent: FdtNode | undefined;
  /** Child nodes in blob order. */
  readonly children: readonly FdtNode[];
  /** Properties in blob order, name to raw value bytes. */
  readonly properties: ReadonlyMap<string, Uint8Array>;
  #path: string | undefined;

  /**
   * Used by parseFdt, which keeps filling `properties` and `children` while it
   * reads the node's tokens; the node exposes them read-only.
   */
  constructor(name: string, parent: FdtNode | undefined, properties: ReadonlyMap<string, Uint8Array>, children: readonly FdtNode[]) {
    this.name = name;
    this.parent = parent;
    this.properties = properties;
    this.children = children;
  }

  /** Absolute path: "/" for the root, "/cpus/cpu@0" below it. */
  get path(): string {
    this.#path ??= childPath(this.parent?.path, this.name);
    return this.#path;
  }

  /** The node-name without unit address ("memory" for "memory@40000000"). */
  get baseName(): string {
    return baseName(this.name);
  }

  /** The unit address ("40000000" for "memory@40000000"), or undefined without one. */
  get unitAddress(): string | undefined {
    return unitAddress(this.name);
  }

  /** The raw value of a property, or undefined if the node has none of that name. */
  prop(name: string): Uint8Array | undefined {
    return this.properties.get(name);
  }

  /** True if the node has the property (an empty property is a true flag). */
  has(name: string): boolean {
    return this.properties.has(name);
  }

  /** A <u32> property: exactly 4 bytes, big-endian. */
  u32(name: string): number | undefined {
    const v = this.#sized(name, 4, "a u32");
    return v === undefined ? undefined : view(v).getUint32(0);
  }

  /** A <u64> property: exactly 8 bytes, big-endian, as a bigint. */
  u64(name: string): bigint | undefined {
    const v = this.#sized(name, 8, "a u64");
    return v === undefined ? undefined : view(v).getBigUint64(0);
  }

  /** A <prop-encoded-array> read as u32 cells: any multiple of 4 bytes, including none. */
  cells(name: string): number[] | undefined {
    const v = this.properties.get(name);
    if (v === undefined) return undefined;
    if (v.length % 4 !== 0) {
      throw new FdtError(`fdt: ${this.#what(name)} is ${v.length} bytes, not a whole number of 4-byte cells`);
    }
    const dv = view(v);
    return Array.from({ length: v.length / 4 }, (_, i) => dv.getUint32(i * 4));
  }

  /** A <string> property: UTF-8 bytes ending in the only NUL of the value. */
  string(name: string): string | undefined {
    const v = this.properties.get(name);
    if (v === undefined) return undefined;
    const nul = v.indexOf(0);
    if (nul < 0) throw new FdtError(`fdt: ${this.#what(name)} is not a string: it does not end with NUL`);
    if (nul !== v.length - 1) {
      throw new FdtError(`fdt: ${this.#what(name)} is not a single string: it has a NUL at byte ${nul} of ${v.length}`);
    }
    return decodeUtf8(v.subarray(0, nul), this.#what(name));
  }

  /** A <stringlist> property (`compatible`): the NUL-terminated strings in order; [] if empty. */
  stringList(name: string): string[] | undefined {
    const v = this.properties.get(name);
    return v === undefined ? undefined : decodeStringList(v, this.#what(name));
  }

  /**
   * The node's phandle: its `phandle` property, or the older `linux,phandle`.
   * parseFdt has already checked that either is one u32 and that both agree.
   */
  get phandle(): number | undefined {
    return this.u32("phandle") ?? this.u32("linux,phandle");
  }

  /**
   * The child called `name`. An exact full-name match wins; otherwise a name
   * without '@' matches the first child whose node-name it is, the rule of
   * libfdt's fdt_subnode_offset() ("memory" finds "memory@40000000"). libfdt
   * takes whichever matches first, exact or not; the two differ only for a
   * node with both "cpu" and "cpu@0", a path the specification calls ambiguous.
   */
  child(name: string): FdtNode | undefined {
    const exact = this.children.find((c) => c.name === name);
    if (exact !== undefined || name.includes("@")) return exact;
    return this.children.find((c) => c.baseName === name);
  }

  /** True if the node's `compatible` list contains `compatible`. */
  isCompatible(compatible: string): boolean {
    return this.stringList("compatible")?.includes(compatible) ?? false;
  }

  /** This node and all below it, depth first in blob order. */
  *walk(): Generator<FdtNode> {
    // Iterative, so a tree of any depth walks without growing the JS stack.
    const pending: FdtNode[] = [this];
    for (let node = pending.pop(); node !== undefined; node = pending.pop()) {
      yield node;
      for (let i = node.children.length - 1; i >= 0; i--) pending.push(node.children[i]!);
    }
  }

  #what(name: string): string {
    return `property '${name}' of ${this.path}`;
  }

  // The value of a fixed-size property, or undefined if absent; throws on another size.
  #sized(name: string, size: number, kind: string): Uint8Array | undefined {
    const v = this.properties.get(name);
    if (v === undefined) return undefined;
    if (v.length !== size) throw new FdtError(`fdt: ${this.#what(name)} is ${v.length} bytes; ${kind} is ${size}`);
    return v;
  }
}

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
