/**
 * FdtWriter: builds a flattened devicetree blob (DTB version 17, last compatible
 * version 16) by sequential calls, in the manner of libfdt's fdt_sw.c and
 * rust-vmm's vm-fdt `FdtWriter`.
 *
 * Layout (Devicetree Specification v0.4 chapter 5, in the order its introduction gives
 * and dtc produces): the 40-byte header; the memory reservation block at offset
 * 40 (8-byte aligned), its entries and a terminating all-zero entry; the
 * structure block right after it; the strings block right after that; no free
 * space, so `totalsize` ends with the last name. Everything is big-endian.
 *
 * Misuse throws FdtError at the call that makes it, naming the node and the
 * property. The writer refuses:
 * - names outside the specification (see fdt-names.ts), a duplicate property
 *   in a node, a duplicate child name, a child named like one of its parent's
 *   properties when it has no unit address (§2.2.1: "the node-name shall be
 *   unique from any property names at the same level");
 * - a property after the node's first child: §5.4.2 lists a node's properties
 *   before its children ("this process requires that all property definitions
 *   for a particular node precede any subnode definitions"), libfdt's property
 *   iterator stops at the first subnode so Linux would never see a later one,
 *   and vm-fdt refuses it too (`PropertyAfterNode`);
 * - what dtc's checks treat as errors, so that dtc accepts every blob written:
 *   a `phandle` / `linux,phandle` that is not one u32, is 0 or 0xffffffff, is
 *   used twice, or disagrees with its twin; a `name` property that is not the
 *   node's own node-name as a string;
 * - overlapping or empty memory reservations (§5.3.2: "shall not overlap"; a
 *   zero size would end the list early);
 * - nesting deeper than FDT_MAX_DEPTH, and a second root.
 */

import {
  FDT_BEGIN_NODE,
  FDT_END,
  FDT_END_NODE,
  FDT_HEADER_SIZE,
  FDT_LAST_COMP_VERSION,
  FDT_MAGIC,
  FDT_MAX_DEPTH,
  FDT_PROP,
  FDT_RESERVE_ENTRY_SIZE,
  FDT_VERSION,
  FdtHeaderOffset as H,
} from "./fdt-constants.js";
import { FdtError, hex } from "./fdt-error.js";
import { baseName, checkNodeName, checkPropertyName, childPath } from "./fdt-names.js";
import { ByteSink, StringsBlock } from "./fdt-blocks.js";
import type { Fdt, FdtMemReserve } from "./fdt-tree.js";
import type { FdtNode } from "./fdt-node.js";
import {
  checkU32,
  checkU64,
  encodeStringList,
  encodeU32Array,
  encodeU64Array,
} from "./fdt-values.js";

/** Options of a new FdtWriter. */
export interface FdtWriterOptions {
  /** `boot_cpuid_phys` of the header: the physical id (`reg`) of the boot CPU. Default 0. */
  bootCpuidPhys?: number;
}

// A node between beginNode and endNode.
interface OpenNode {
  readonly path: string;
  readonly name: string;
  readonly properties: Set<string>;
  readonly children: Set<string>;
  hasChildren: boolean;
  phandle: number | undefined;
}

const U32_MAX = 0xffff_ffff;
const TWO_TO_64 = 1n << 64n;

/** Builds a DTB by sequential calls: beginNode, properties, child nodes, endNode, finish. */
export class FdtWriter {
  readonly #bootCpuidPhys: number;
  readonly #memReserve: FdtMemReserve[] = [];
  readonly #struct = new ByteSink();
  readonly #strings = new StringsBlock();
  readonly #stack: OpenNode[] = [];
  readonly #phandles = new Map<number, string>();
  #rootState: "none" | "open" | "closed" = "none";
  #finished = false;

  constructor(options: FdtWriterOptions = {}) {
    this.#bootCpuidPhys = checkU32(options.bootCpuidPhys ?? 0, "bootCpuidPhys");
  }

  /**
   * Adds a memory reservation entry (§5.3). Allowed at any time before finish;
   * entries keep the order of the calls. Refuses a zero size, a range past
   * 2^64 and a range overlapping an earlier entry.
   */
  addMemReserve(address: number | bigint, size: number | bigint): void {
    this.#checkNotFinished("addMemReserve");
    const a = checkU64(address, "memory reservation address");
    const s = checkU64(size, "memory reservation size");
    if (s === 0n) {
      throw new FdtError(`fdt: memory reservation at ${hex(a)} has size 0 (an entry of size 0 ends the list)`);
    }
    if (a + s > TWO_TO_64) throw new FdtError(`fdt: memory reservation ${hex(a)} + ${hex(s)} runs past 2^64`);
    for (const r of this.#memReserve) {
      if (a < r.address + r.size && r.address < a + s) {
        throw new FdtError(
          `fdt: memory reservation [${hex(a)}, ${hex(a + s)}) overlaps [${hex(r.address)}, ${hex(r.address + r.size)})`,
        );
      }
    }
    this.#memReserve.push(Object.freeze({ address: a, size: s }));
  }

  /** Begins a node: the root first, as `beginNode("")`, then children by full name ("cpu@0"). */
  beginNode(name: string): void {
    this.#checkNotFinished("beginNode");
    const parent = this.#stack.at(-1);
    if (this.#rootState === "closed") {
      throw new FdtError(`fdt: beginNode('${name}') after the root node ended; a tree has exactly one root`);
    }
    if (parent === undefined) {
      if (name !== "") throw new FdtError(`fdt: the first node must be the root: call beginNode("") before beginNode('${name}')`);
      this.#rootState = "open";
    } else {
      checkNodeName(name, parent.path);
      if (parent.children.has(name)) throw new FdtError(`fdt: duplicate node name '${name}' in ${parent.path}`);
      if (!name.includes("@") && parent.properties.has(name)) {
        throw new FdtError(
          `fdt: node '${name}' in ${parent.path} has the name of a property of ${parent.path}; a node-name without unit address must differ from its siblings' property names (Devicetree Specification v0.4 §2.2.1)`,
        );
      }
      if (this.#stack.length >= FDT_MAX_DEPTH) {
        throw new FdtError(`fdt: node '${name}' in ${parent.path} would nest deeper than ${FDT_MAX_DEPTH} levels`);
      }
      parent.children.add(name);
      parent.hasChildren = true;
    }
    this.#struct.u32(FDT_BEGIN_NODE);
    this.#struct.ascii(name);
    this.#struct.u8(0);
    this.#struct.align4();
    const path = childPath(parent?.path, name);
    this.#stack.push({ path, name, properties: new Set(), children: new Set(), hasChildren: false, phandle: undefined });
  }

  /** Ends the node most recently begun. */
  endNode(): void {
    this.#checkNotFinished("endNode");
    if (this.#stack.pop() === undefined) {
      throw new FdtError(
        this.#rootState === "closed" ? "fdt: endNode() after the root node ended" : "fdt: endNode() without an open node",
      );
    }
    this.#struct.u32(FDT_END_NODE);
    if (this.#stack.length === 0) this.#rootState = "closed";
  }

  /** Adds a property with raw bytes as its value (copied now; later changes to `value` do not matter). */
  property(name: string, value: Uint8Array): void {
    this.#checkNotFinished("property");
    if (!(value instanceof Uint8Array)) throw new FdtError(`fdt: value of property '${name}' is not a Uint8Array`);
    const node = this.#nodeForProperty(name);
    this.#checkSpecialProperty(node, name, value);
    node.properties.add(name);
    this.#struct.u32(FDT_PROP);
    this.#struct.u32(value.length);
    this.#struct.u32(this.#strings.offsetOf(name));
    this.#struct.bytes(value);
    this.#struct.align4();
  }

  /** Adds an empty property (a true/false flag such as `interrupt-controller`). */
  propertyNull(name: string): void {
    this.property(name, new Uint8Array(0));
  }

  /** Adds a property of one big-endian u32 cell. */
  propertyU32(name: string, value: number): void {
    this.property(name, encodeU32Array([value], this.#what(name)));
  }

  /** Adds a property of one big-endian u64 (two cells); pass a bigint above 2^53-1. */
  propertyU64(name: string, value: number | bigint): void {
    this.property(name, encodeU64Array([value], this.#what(name)));
  }

  /** Adds a property of u32 cells (`reg`, `interrupts`, ...); an empty array gives an empty property. */
  propertyArrayU32(name: string, values: readonly number[]): void {
    this.property(name, encodeU32Array(values, this.#what(name)));
  }

  /** Adds a property of u64 values, each two cells, high cell first. */
  propertyArrayU64(name: string, values: readonly (number | bigint)[]): void {
    this.property(name, encodeU64Array(values, this.#what(name)));
  }

  /** Adds a <string> property: UTF-8 and a terminating NUL; a NUL inside is refused. */
  propertyString(name: string, value: string): void {
    this.property(name, encodeStringList([value], this.#what(name)));
  }

  /** Adds a <stringlist> property (`compatible`): each string NUL-terminated; [] gives an empty property. */
  propertyStringList(name: string, values: readonly string[]): void {
    this.property(name, encodeStringList(values, this.#what(name)));
  }

  /**
   * Lays out the blob and returns it. Throws if no root was written or nodes
   * are still open. The writer is spent afterwards: any further call throws.
   */
  finish(): Uint8Array {
    this.#checkNotFinished("finish");
    if (this.#rootState === "none") {
      throw new FdtError('fdt: finish() before any node: the tree needs a root, beginNode("")');
    }
    const open = this.#stack.at(-1);
    if (open !== undefined) {
      throw new FdtError(`fdt: finish() with ${this.#stack.length} node(s) still open, the innermost ${open.path}`);
    }
    const offMemRsvmap = FDT_HEADER_SIZE; // already 8-byte aligned
    const offDtStruct = offMemRsvmap + (this.#memReserve.length + 1) * FDT_RESERVE_ENTRY_SIZE;
    const offDtStrings = offDtStruct + this.#struct.length + 4; // + FDT_END
    const totalsize = offDtStrings + this.#strings.size;
    if (totalsize > U32_MAX) throw new FdtError(`fdt: the blob would be ${totalsize} bytes, more than totalsize can say`);
    this.#struct.u32(FDT_END);

    const out = new Uint8Array(totalsize);
    const view = new DataView(out.buffer);
    view.setUint32(H.magic, FDT_MAGIC);
    view.setUint32(H.totalsize, totalsize);
    view.setUint32(H.offDtStruct, offDtStruct);
    view.setUint32(H.offDtStrings, offDtStrings);
    view.setUint32(H.offMemRsvmap, offMemRsvmap);
    view.setUint32(H.version, FDT_VERSION);
    view.setUint32(H.lastCompVersion, FDT_LAST_COMP_VERSION);
    view.setUint32(H.bootCpuidPhys, this.#bootCpuidPhys);
    view.setUint32(H.sizeDtStrings, this.#strings.size);
    view.setUint32(H.sizeDtStruct, this.#struct.length);
    this.#memReserve.forEach((r, i) => {
      view.setBigUint64(offMemRsvmap + i * FDT_RESERVE_ENTRY_SIZE, r.address);
      view.setBigUint64(offMemRsvmap + i * FDT_RESERVE_ENTRY_SIZE + 8, r.size);
    }); // the terminating entry is the zeroed 16 bytes after the last one
    out.set(this.#struct.view(), offDtStruct);
    this.#strings.writeTo(out, offDtStrings);
    this.#finished = true;
    return out;
  }

  // How value errors name the property. Runs the checks on the property's
  // name and place first, so that they, not the value, are reported first.
  #what(name: string): string {
    this.#checkNotFinished("property");
    return `property '${name}' of ${this.#nodeForProperty(name).path}`;
  }

  #checkNotFinished(call: string): void {
    if (this.#finished) throw new FdtError(`fdt: ${call}() after finish(); start a new FdtWriter`);
  }

  // The open node a property goes to, after the checks on its name and place.
  #nodeForProperty(name: string): OpenNode {
    const node = this.#stack.at(-1);
    if (node === undefined) {
      throw new FdtError(
        this.#rootState === "closed"
          ? `fdt: property '${name}' after the root node ended`
          : `fdt: property '${name}' outside any node: call beginNode("") first`,
      );
    }
    checkPropertyName(name, node.path);
    if (node.properties.has(name)) throw new FdtError(`fdt: duplicate property '${name}' in ${node.path}`);
    if (node.hasChildren) {
      throw new FdtError(
        `fdt: property '${name}' of ${node.path} after its child nodes; write a node's properties before its children (Devicetree Specification v0.4 §5.4.2)`,
      );
    }
    return node;
  }

  // The properties dtc's checks give meaning to, and reject when malformed.
  #checkSpecialProperty(node: OpenNode, name: string, value: Uint8Array): void {
    if (name === "phandle" || name === "linux,phandle") {
      if (value.length !== 4) {
        throw new FdtError(`fdt: property '${name}' of ${node.path} is ${value.length} bytes; a phandle is one u32 cell`);
      }
      const ph = new DataView(value.buffer, value.byteOffset, 4).getUint32(0);
      if (ph === 0 || ph === U32_MAX) {
        throw new FdtError(`fdt: phandle ${hex(ph)} of ${node.path} is reserved (0 and 0xffffffff are not phandles)`);
      }
      if (node.phandle !== undefined) {
        if (node.phandle !== ph) {
          throw new FdtError(`fdt: '${name}' ${hex(ph)} of ${node.path} differs from its other phandle ${hex(node.phandle)}`);
        }
        return;
      }
      const owner = this.#phandles.get(ph);
      if (owner !== undefined) throw new FdtError(`fdt: phandle ${hex(ph)} of ${node.path} is already used by ${owner}`);
      this.#phandles.set(ph, node.path);
      node.phandle = ph;
    } else if (name === "name") {
      const expected = encodeStringList([baseName(node.name)], "name");
      if (value.length !== expected.length || value.some((b, i) => b !== expected[i])) {
        throw new FdtError(
          `fdt: property 'name' of ${node.path} must be the node-name "${baseName(node.name)}" as a string (dtc rejects any other value)`,
        );
      }
    }
  }
}

/**
 * Writes a parsed tree out again with FdtWriter: same header values, memory
 * reservations, nodes, properties and order, in this package's layout. For a
 * blob FdtWriter made, `writeFdt(parseFdt(blob))` gives back the same bytes.
 * Throws FdtError if the tree breaks a rule the writer enforces (a parsed blob
 * may use names the specification does not allow).
 */
export function writeFdt(fdt: Fdt): Uint8Array {
  const w = new FdtWriter({ bootCpuidPhys: fdt.bootCpuidPhys });
  for (const r of fdt.memReserve) w.addMemReserve(r.address, r.size);
  // Depth is bounded by FDT_MAX_DEPTH, so recursion is safe here.
  const emit = (node: FdtNode): void => {
    w.beginNode(node.name);
    for (const [name, value] of node.properties) w.property(name, value);
    for (const child of node.children) emit(child);
    w.endNode();
  };
  emit(fdt.root);
  return w.finish();
}
