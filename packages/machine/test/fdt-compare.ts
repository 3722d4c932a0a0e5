/**
 * Test kit: compares two device trees node for node and property for
 * property. Each tree is copied from parseFdt's result into a mutable model
 * (so the allowed differences can edit it), then printed as canonical lines,
 * one per node and property in blob order, with every phandle reference
 * replaced by the path of the node it points to (`&/intc@8000000`) and every
 * `phandle` value by `<phandle>`. Two trees are equal when their lines are.
 */

import { formatDtsValue, parseFdt, type FdtNode } from "@irqlab/fdt";

/** A mutable node. */
export interface TNode {
  name: string;
  props: { name: string; value: Uint8Array }[];
  children: TNode[];
}

/** A mutable copy of a parsed blob. */
export function treeOf(blob: Uint8Array): TNode {
  const copy = (n: FdtNode): TNode => ({
    name: n.name,
    props: [...n.properties].map(([name, value]) => ({ name, value })),
    children: n.children.map(copy),
  });
  return copy(parseFdt(blob).root);
}

/** Every node with its path, depth first in blob order. */
export function walk(root: TNode): { path: string; node: TNode; parent: TNode | undefined }[] {
  const out: { path: string; node: TNode; parent: TNode | undefined }[] = [];
  const visit = (n: TNode, path: string, parent: TNode | undefined): void => {
    out.push({ path, node: n, parent });
    for (const c of n.children) visit(c, path === "/" ? `/${c.name}` : `${path}/${c.name}`, n);
  };
  visit(root, "/", undefined);
  return out;
}

/** The node at an exact path. */
export function nodeAt(root: TNode, path: string): TNode | undefined {
  return walk(root).find((e) => e.path === path)?.node;
}

/** Big-endian u32 cells of a value. */
export function cellsOf(v: Uint8Array): number[] {
  const d = new DataView(v.buffer, v.byteOffset, v.byteLength);
  return Array.from({ length: v.length / 4 }, (_, i) => d.getUint32(i * 4));
}

/** Bytes of big-endian u32 cells. */
export function bytesOf(cells: readonly number[]): Uint8Array {
  const out = new Uint8Array(cells.length * 4);
  const d = new DataView(out.buffer);
  cells.forEach((c, i) => {
    d.setUint32(i * 4, c);
  });
  return out;
}

/** NUL-terminated strings. */
export function stringsOf(list: readonly string[]): Uint8Array {
  return new TextEncoder().encode(list.map((s) => `${s}\0`).join(""));
}

/** A property's value, or undefined. */
export function propOf(n: TNode, name: string): Uint8Array | undefined {
  return n.props.find((p) => p.name === name)?.value;
}

/** Removes the nodes `match` selects (with their subtrees); returns how many. */
export function removeNodes(root: TNode, match: (path: string, node: TNode) => boolean): number {
  let count = 0;
  for (const { path, node, parent } of walk(root)) {
    if (parent && match(path, node) && parent.children.includes(node)) {
      parent.children.splice(parent.children.indexOf(node), 1);
      count++;
    }
  }
  return count;
}

/** Removes property `name` from the nodes `match` selects; returns how many. */
export function removeProps(root: TNode, name: string, match: (path: string, node: TNode) => boolean = () => true): number {
  let count = 0;
  for (const { path, node } of walk(root)) {
    const i = node.props.findIndex((p) => p.name === name);
    if (i >= 0 && match(path, node)) {
      node.props.splice(i, 1);
      count++;
    }
  }
  return count;
}

/** Moves child `name` of `parentPath` to stand before `before` (or last when undefined); 1 if moved. */
export function moveChild(root: TNode, parentPath: string, name: string, before: string | undefined): number {
  const parent = nodeAt(root, parentPath);
  const child = parent?.children.find((c) => c.name === name);
  if (!parent || !child) return 0;
  parent.children.splice(parent.children.indexOf(child), 1);
  const at = before === undefined ? -1 : parent.children.findIndex((c) => c.name === before);
  parent.children.splice(at < 0 ? parent.children.length : at, 0, child);
  return 1;
}

// How each phandle-bearing property is laid out: the cells after a phandle come
// from the target node (`#…-cells`) or are fixed.
// Phandle cells are returned as they are (≥ 0); every other cell c as −1 − c.
type Layout = (node: TNode, target: (ph: number) => TNode | undefined, cells: number[]) => number[];

const n32 = (n: TNode | undefined, name: string, dflt: number): number => {
  const v = n ? propOf(n, name) : undefined;
  return v?.length === 4 ? cellsOf(v)[0]! : dflt;
};

/** phandle + `#<spec>-cells` of the target, repeated. */
function specifiers(spec: string, dflt: number): Layout {
  return (_node, target, cells) => {
    const out: number[] = [];
    for (let i = 0; i < cells.length; ) {
      const t = target(cells[i]!);
      out.push(cells[i]!);
      const n = n32(t, spec, dflt);
      out.push(...cells.slice(i + 1, i + 1 + n).map((c) => -1 - c));
      i += 1 + n;
    }
    return out;
  };
}

/** Fixed groups with the phandle at index `at` of each group of `size` cells. */
function groups(size: number, at: number): Layout {
  return (_node, _target, cells) => cells.map((c, i) => (i % size === at ? c : -1 - c));
}

/** Every cell is a phandle. */
const phandles: Layout = (_node, _target, cells) => cells;

const LAYOUTS: Record<string, Layout> = {
  "interrupt-parent": phandles,
  "msi-parent": specifiers("#msi-cells", 0),
  clocks: specifiers("#clock-cells", 0),
  "interrupts-extended": specifiers("#interrupt-cells", 1),
  gpios: specifiers("#gpio-cells", 2),
  cpu: phandles,
  regmap: phandles,
  "riscv,children": phandles,
  "riscv,delegation": groups(3, 0),
  "riscv,delegate": groups(3, 0),
  "msi-map": groups(4, 1),
  "interrupt-map": (node, target, cells) => {
    const child = n32(node, "#address-cells", 2) + n32(node, "#interrupt-cells", 1);
    const out: number[] = [];
    for (let i = 0; i < cells.length; ) {
      out.push(...cells.slice(i, i + child).map((c) => -1 - c));
      const ph = cells[i + child]!;
      const t = target(ph);
      out.push(ph);
      const n = n32(t, "#address-cells", 0) + n32(t, "#interrupt-cells", 1);
      out.push(...cells.slice(i + child + 1, i + child + 1 + n).map((c) => -1 - c));
      i += child + 1 + n;
    }
    return out;
  },
};

/**
 * The canonical lines of a tree: "path {" per node, "path:name = value" per
 * property. Phandle cells print as `&target-path` (or `&?0x…` when dangling).
 */
export function canonicalLines(root: TNode): string[] {
  const entries = walk(root);
  const byPhandle = new Map<number, string>();
  const nodeByPath = new Map<string, TNode>();
  for (const { path, node } of entries) {
    nodeByPath.set(path, node);
    const ph = propOf(node, "phandle");
    if (ph?.length === 4) byPhandle.set(cellsOf(ph)[0]!, path);
  }
  const target = (ph: number): TNode | undefined => {
    const p = byPhandle.get(ph);
    return p === undefined ? undefined : nodeByPath.get(p);
  };
  const lines: string[] = [];
  for (const { path, node } of entries) {
    lines.push(`${path} {`);
    for (const p of node.props) {
      let text: string;
      const layout = LAYOUTS[p.name];
      if (p.name === "phandle" || p.name === "linux,phandle") {
        text = " = <phandle>;";
      } else if (layout && p.value.length % 4 === 0 && p.value.length > 0) {
        const cells = layout(node, target, cellsOf(p.value));
        const shown = cells.map((c) => {
          if (c < 0) return `0x${(-1 - c).toString(16)}`;
          const t = byPhandle.get(c);
          return t === undefined ? `&?0x${c.toString(16)}` : `&${t}`;
        });
        text = ` = <${shown.join(" ")}>;`;
      } else {
        text = formatDtsValue(p.value);
      }
      lines.push(`${path}:${p.name}${text}`);
    }
  }
  return lines;
}
