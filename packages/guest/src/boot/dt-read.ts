/**
 * Device-tree reading helpers the boot layer shares: cell arithmetic, `reg`
 * with the parent's #address-cells / #size-cells, address translation through
 * `ranges`, `status`, phandle references and interrupt specifiers. They follow
 * the Devicetree Specification v0.4 (§2.3.5 #address-cells/#size-cells and
 * their defaults 2 and 1, §2.3.6 reg, §2.3.8 ranges, §2.3.4 status, §2.4
 * interrupts) and Linux's drivers/of/address.c and irq.c where the
 * specification leaves a choice.
 *
 * A tree that breaks them throws DtFault, which the boot layer turns into a
 * guest panic; nothing here lets a JavaScript error escape to the guest's
 * executor. FdtError from the typed accessors of @irqlab/fdt is handled the
 * same way by the caller.
 */

import type { Fdt, FdtNode } from "@irqlab/fdt";
import type { InterruptSpec, Region } from "./platform-info.js";

/** A missing or malformed node or property: the message the guest panics with. */
export class DtFault extends Error {
  override readonly name = "DtFault";
}

/** Throws DtFault with `message`. */
export function fault(message: string): never {
  throw new DtFault(message);
}

/** `0x…` in lower case. */
export function hex(v: number): string {
  return `0x${v.toString(16)}`;
}

/**
 * The number that `cells[at..at+n)` encode, big-endian. Refuses a value of
 * 2^53 or more (`what` names it in the message) instead of rounding it.
 */
export function cellValue(cells: readonly number[], at: number, n: number, what: string): number {
  if (n === 0) return 0;
  if (n > 2) {
    // Wider numbers (PCI child addresses) keep only the low two cells; the rest must be 0.
    for (let i = 0; i < n - 2; i++) if (cells[at + i] !== 0) fault(`${what} does not fit in 64 bits`);
    return cellValue(cells, at + n - 2, 2, what);
  }
  const lo = cells[at + n - 1] ?? 0;
  const hi = n === 2 ? (cells[at] ?? 0) : 0;
  if (hi >= 0x20_0000) fault(`${what} 0x${hi.toString(16)}${lo.toString(16).padStart(8, "0")} is beyond 2^53`);
  return hi * 2 ** 32 + lo;
}

/** A property's u32 cells; DtFault if absent (the FdtError of a bad shape propagates). */
export function requiredCells(node: FdtNode, name: string): number[] {
  return node.cells(name) ?? fault(`${node.path} has no ${name} property`);
}

/**
 * A u32 or u64 property (one or two cells) as a number, or undefined when
 * absent: bindings such as `redistributor-stride` allow either width.
 */
export function cellsNumber(node: FdtNode, name: string): number | undefined {
  const c = node.cells(name);
  if (c === undefined) return undefined;
  if (c.length !== 1 && c.length !== 2) fault(`property '${name}' of ${node.path} is ${c.length} cells; expected 1 or 2`);
  return cellValue(c, 0, c.length, `property '${name}' of ${node.path}`);
}

/** `#address-cells` of a bus node (default 2, §2.3.5). */
export function ownAddressCells(bus: FdtNode): number {
  return bus.u32("#address-cells") ?? 2;
}

/** `#size-cells` of a bus node (default 1, §2.3.5). */
export function ownSizeCells(bus: FdtNode): number {
  return bus.u32("#size-cells") ?? 1;
}

/** True unless `status` says otherwise: absent, "okay" or "ok" (Linux __of_device_is_available). */
export function isAvailable(node: FdtNode): boolean {
  const s = node.string("status");
  return s === undefined || s === "okay" || s === "ok";
}

/**
 * The entries of `reg` as the node's parent bus encodes them, not yet
 * translated: [address, size] pairs.
 */
export function rawReg(node: FdtNode): { address: number; size: number }[] {
  const bus = node.parent ?? fault(`the root node has no reg`);
  const ac = ownAddressCells(bus);
  const sc = ownSizeCells(bus);
  const cells = requiredCells(node, "reg");
  const per = ac + sc;
  if (per === 0 || cells.length === 0 || cells.length % per !== 0) {
    fault(`reg of ${node.path} is ${cells.length} cells, not a whole number of <${ac} address + ${sc} size> entries`);
  }
  const out: { address: number; size: number }[] = [];
  for (let i = 0; i < cells.length; i += per) {
    out.push({
      address: cellValue(cells, i, ac, `reg address of ${node.path}`),
      size: cellValue(cells, i + ac, sc, `reg size of ${node.path}`),
    });
  }
  return out;
}

/**
 * `reg` translated to CPU addresses. Every bus between the node and the root
 * must have `ranges` (empty: identity), as of_translate_address() requires.
 */
export function regions(node: FdtNode): Region[] {
  return rawReg(node).map((r) => ({ base: translate(node, r.address, r.size), size: r.size }));
}

/** The first `reg` entry, translated. */
export function firstRegion(node: FdtNode): Region {
  const r = regions(node)[0];
  return r ?? fault(`${node.path} has an empty reg`);
}

/**
 * Translates `address` (with `size` bytes after it) of a node on its parent's
 * bus up to the root's address space, one bus at a time (§2.3.8).
 */
export function translate(node: FdtNode, address: number, size: number): number {
  let addr = address;
  for (let bus = node.parent; bus?.parent !== undefined; bus = bus.parent) {
    const ranges = bus.cells("ranges");
    if (ranges === undefined) fault(`${bus.path} has no ranges, so ${node.path} is not reachable from the CPU`);
    if (ranges.length === 0) continue; // identity
    const childAc = ownAddressCells(bus);
    const childSc = ownSizeCells(bus);
    const parentAc = ownAddressCells(bus.parent);
    const per = childAc + parentAc + childSc;
    if (ranges.length % per !== 0) {
      fault(`ranges of ${bus.path} is ${ranges.length} cells, not a whole number of ${per}-cell entries`);
    }
    let mapped: number | undefined;
    for (let i = 0; i < ranges.length && mapped === undefined; i += per) {
      const child = cellValue(ranges, i, childAc, `ranges child address of ${bus.path}`);
      const parent = cellValue(ranges, i + childAc, parentAc, `ranges parent address of ${bus.path}`);
      const len = cellValue(ranges, i + childAc + parentAc, childSc, `ranges size of ${bus.path}`);
      if (addr >= child && addr + size <= child + len) mapped = parent + (addr - child);
    }
    if (mapped === undefined) fault(`${node.path}: address ${hex(addr)} is outside every range of ${bus.path}`);
    addr = mapped;
  }
  return addr;
}

/** The node a phandle names; DtFault naming the referring property if none does. */
export function byPhandle(fdt: Fdt, phandle: number, what: string): FdtNode {
  return fdt.nodeByPhandle(phandle) ?? fault(`${what} refers to phandle ${hex(phandle)}, which no node has`);
}

/**
 * A node's interrupt parent, as of_irq_find_parent() finds it: the node named
 * by the nearest `interrupt-parent` on the way to the root, continuing from
 * there until a node with `#interrupt-cells`.
 */
export function interruptParent(fdt: Fdt, node: FdtNode): FdtNode | undefined {
  let child = node;
  for (let hops = 0; hops < 64; hops++) {
    const ph = child.u32("interrupt-parent");
    const p: FdtNode | undefined = ph === undefined ? child.parent : byPhandle(fdt, ph, `interrupt-parent of ${child.path}`);
    if (p === undefined) return undefined;
    if (p.has("#interrupt-cells")) return p;
    child = p;
  }
  return undefined;
}

/** `#interrupt-cells` of a controller; DtFault if it has none. */
export function interruptCells(controller: FdtNode): number {
  return controller.u32("#interrupt-cells") ?? fault(`interrupt controller ${controller.path} has no #interrupt-cells`);
}

/** A device's interrupts: `interrupts-extended` if present, else `interrupts` with its interrupt parent. */
export function interruptsOf(fdt: Fdt, node: FdtNode): InterruptSpec[] {
  if (node.has("interrupts-extended")) return interruptsExtended(fdt, node);
  const cells = node.cells("interrupts");
  if (cells === undefined || cells.length === 0) return [];
  const parent = interruptParent(fdt, node) ?? fault(`${node.path} has interrupts but no interrupt parent`);
  const n = interruptCells(parent);
  if (n === 0 || cells.length % n !== 0) {
    fault(`interrupts of ${node.path} is ${cells.length} cells; its controller ${parent.path} takes ${n} per interrupt`);
  }
  const out: InterruptSpec[] = [];
  for (let i = 0; i < cells.length; i += n) out.push({ controller: parent.path, cells: cells.slice(i, i + n) });
  return out;
}

/** `interrupts-extended`: <phandle specifier...> entries, each as wide as its controller's #interrupt-cells. */
export function interruptsExtended(fdt: Fdt, node: FdtNode): InterruptSpec[] {
  const cells = requiredCells(node, "interrupts-extended");
  const out: InterruptSpec[] = [];
  for (let i = 0; i < cells.length; ) {
    const ctrl = byPhandle(fdt, cells[i]!, `interrupts-extended of ${node.path}`);
    const n = interruptCells(ctrl);
    if (i + 1 + n > cells.length) fault(`interrupts-extended of ${node.path} ends inside an entry for ${ctrl.path}`);
    out.push({ controller: ctrl.path, cells: cells.slice(i + 1, i + 1 + n) });
    i += 1 + n;
  }
  return out;
}

/**
 * The phandle list `name` of <phandle specifier...> entries whose specifier
 * width is the target's `cellsName` (default 0 when absent), as
 * of_parse_phandle_with_args() reads `msi-parent`. Returns the target paths.
 */
export function phandleTargets(fdt: Fdt, node: FdtNode, name: string, cellsName: string): string[] {
  const cells = node.cells(name);
  if (cells === undefined) return [];
  const out: string[] = [];
  for (let i = 0; i < cells.length; ) {
    const target = byPhandle(fdt, cells[i]!, `${name} of ${node.path}`);
    const n = target.u32(cellsName) ?? 0;
    if (i + 1 + n > cells.length) fault(`${name} of ${node.path} ends inside an entry for ${target.path}`);
    out.push(target.path);
    i += 1 + n;
  }
  return out;
}
