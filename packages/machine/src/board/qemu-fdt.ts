/**
 * A device tree under construction, with the semantics of QEMU's
 * `qemu_fdt_*` helpers (qemu/qemu system/device_tree.c) over libfdt's
 * read-write API (dtc/libfdt fdt_rw.c), so that a board built with the same
 * sequence of calls as QEMU's produces the same tree in the same order.
 *
 * The order matters and is libfdt's, not the call order:
 * - fdt_add_subnode() inserts the new node after the parent's properties and
 *   before its existing children, so children end up in reverse order of
 *   creation (hw/arm/virt.c: "The nodes end up in the DTB in reverse order of
 *   creation");
 * - fdt_setprop() of a new property inserts it right after the node's
 *   FDT_BEGIN_NODE tag (fdt_add_property_()), so properties too end up in
 *   reverse order; setting an existing property resizes it in place.
 * Paths are resolved as fdt_path_offset() does: a component without a unit
 * address matches the first child named `component@…` (so QEMU's "/intc"
 * finds "/intc@8000000").
 *
 * Serialisation goes through @irqlab/fdt's FdtWriter.
 */

import { ConfigError } from "@irqlab/sim";
import { FdtWriter } from "@irqlab/fdt";

interface Prop {
  readonly name: string;
  value: Uint8Array;
}

interface Node {
  readonly name: string;
  readonly props: Prop[];
  readonly children: Node[];
}

const TEXT = new TextEncoder();

/** Big-endian 32-bit cells. */
export function cellBytes(cells: readonly number[]): Uint8Array {
  const out = new Uint8Array(cells.length * 4);
  const view = new DataView(out.buffer);
  cells.forEach((c, i) => {
    if (!Number.isInteger(c) || c < 0 || c > 0xffff_ffff) throw new ConfigError(`device tree cell ${c} is not a 32-bit value`);
    view.setUint32(i * 4, c);
  });
  return out;
}

/** The two cells (high, low) of a 64-bit value given as a safe integer. */
export function u64Cells(v: number): [number, number] {
  if (!Number.isSafeInteger(v) || v < 0) throw new ConfigError(`device tree value ${v} is not a 64-bit address or size`);
  return [Math.floor(v / 2 ** 32), v % 2 ** 32];
}

/** NUL-terminated strings back to back, as qemu_fdt_setprop_string_array() writes them. */
export function stringListBytes(list: readonly string[]): Uint8Array {
  const parts = list.map((s) => TEXT.encode(`${s}\0`));
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** A device tree built the way QEMU builds one; see the module comment for the ordering rules. */
export class QemuFdt {
  readonly #root: Node = { name: "", props: [], children: [] };
  #nextPhandle: number;

  /** `phandleStart` is where qemu_fdt_alloc_phandle() starts (0x8000 unless -machine phandle-start). */
  constructor(phandleStart = 0x8000) {
    this.#nextPhandle = phandleStart;
  }

  /** qemu_fdt_alloc_phandle(): the next phandle number. */
  allocPhandle(): number {
    return this.#nextPhandle++;
  }

  /** qemu_fdt_add_subnode(): creates `path`, whose parent must exist and which must not. */
  addSubnode(path: string): void {
    const { parent, name } = this.#split(path);
    const p = this.#find(parent);
    if (!p) throw new ConfigError(`device tree: no parent node for ${path}`);
    if (p.children.some((c) => c.name === name)) throw new ConfigError(`device tree: node ${path} already exists`);
    p.children.unshift({ name, props: [], children: [] });
  }

  /** qemu_fdt_add_path(): creates every missing node along `path`. */
  addPath(path: string): void {
    let node = this.#root;
    for (const part of path.split("/").filter((s) => s !== "")) {
      const next = matchChild(node, part);
      if (next) {
        node = next;
      } else {
        const created: Node = { name: part, props: [], children: [] };
        node.children.unshift(created);
        node = created;
      }
    }
  }

  /** qemu_fdt_setprop(): raw bytes. */
  setprop(path: string, name: string, value: Uint8Array): void {
    const node = this.#find(path);
    if (!node) throw new ConfigError(`device tree: no node ${path} for property ${name}`);
    const old = node.props.find((p) => p.name === name);
    if (old) old.value = value;
    else node.props.unshift({ name, value });
  }

  /** An empty (boolean) property: qemu_fdt_setprop(fdt, path, name, NULL, 0). */
  setpropEmpty(path: string, name: string): void {
    this.setprop(path, name, new Uint8Array(0));
  }

  /** qemu_fdt_setprop_cell(). */
  setpropCell(path: string, name: string, value: number): void {
    this.setprop(path, name, cellBytes([value]));
  }

  /** qemu_fdt_setprop_cells(). */
  setpropCells(path: string, name: string, ...values: number[]): void {
    this.setprop(path, name, cellBytes(values));
  }

  /** qemu_fdt_setprop_u64(). */
  setpropU64(path: string, name: string, value: number): void {
    this.setprop(path, name, cellBytes(u64Cells(value)));
  }

  /** qemu_fdt_setprop_string(). */
  setpropString(path: string, name: string, value: string): void {
    this.setprop(path, name, stringListBytes([value]));
  }

  /** qemu_fdt_setprop_string_array(), or qemu_fdt_setprop() of a "a\0b" literal with its sizeof. */
  setpropStringArray(path: string, name: string, values: readonly string[]): void {
    this.setprop(path, name, stringListBytes(values));
  }

  /** qemu_fdt_setprop_sized_cells(): each value written as 1 or 2 cells. */
  setpropSizedCells(path: string, name: string, values: readonly (readonly [1 | 2, number])[]): void {
    const cells: number[] = [];
    for (const [size, v] of values) {
      if (size === 1) cells.push(v);
      else cells.push(...u64Cells(v));
    }
    this.setprop(path, name, cellBytes(cells));
  }

  /** qemu_fdt_get_phandle(): the `phandle` of the node at `path`. */
  getPhandle(path: string): number {
    const p = this.#find(path)?.props.find((q) => q.name === "phandle");
    if (p?.value.length !== 4) throw new ConfigError(`device tree: node ${path} has no phandle`);
    return new DataView(p.value.buffer, p.value.byteOffset).getUint32(0);
  }

  /** qemu_fdt_setprop_phandle(): a cell holding the phandle of the node at `target`. */
  setpropPhandle(path: string, name: string, target: string): void {
    this.setpropCell(path, name, this.getPhandle(target));
  }

  /** Whether `path` resolves to a node. */
  has(path: string): boolean {
    return this.#find(path) !== undefined;
  }

  /** The flattened blob (DTB v17), written with FdtWriter. */
  toBlob(): Uint8Array {
    const w = new FdtWriter();
    const emit = (n: Node): void => {
      w.beginNode(n.name);
      for (const p of n.props) w.property(p.name, p.value);
      for (const c of n.children) emit(c);
      w.endNode();
    };
    emit(this.#root);
    return w.finish();
  }

  #split(path: string): { parent: string; name: string } {
    const i = path.lastIndexOf("/");
    const name = path.slice(i + 1);
    if (i < 0 || name === "") throw new ConfigError(`device tree: bad node path ${path}`);
    return { parent: i === 0 ? "/" : path.slice(0, i), name };
  }

  /** fdt_path_offset(): exact names first-match, or `name@…` for a component without a unit address. */
  #find(path: string): Node | undefined {
    let node: Node | undefined = this.#root;
    for (const part of path.split("/").filter((s) => s !== "")) {
      node = matchChild(node, part);
      if (!node) return undefined;
    }
    return node;
  }
}

/** libfdt fdt_nodename_eq_(): the exact name, or `part@…` when `part` has no unit address; first match wins. */
function matchChild(node: Node, part: string): Node | undefined {
  return node.children.find((c) => c.name === part || (!part.includes("@") && c.name.startsWith(`${part}@`)));
}
