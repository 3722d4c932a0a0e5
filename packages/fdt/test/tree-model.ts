/**
 * Test kit: a plain-data model of a devicetree, fast-check arbitraries that
 * generate valid ones, and conversions model → blob (through FdtWriter) and
 * parsed Fdt → model, so that property tests can compare what went in with
 * what came out.
 *
 * Generated names keep clear of the property names dtc's semantic checks look
 * at (`reg`, `*-names`, `*-gpios`, `phandle` ...), so that dtc's only possible
 * complaints about a random tree are the advisory ones listed in
 * RANDOM_TREE_WARNINGS.
 */

import fc from "fast-check";
import { FdtWriter, type Fdt, type FdtMemReserve, type FdtNode } from "../src/index.js";

/** A node: full name, properties in order, children in order. */
export interface NodeModel {
  readonly name: string;
  readonly props: readonly (readonly [string, Uint8Array])[];
  readonly children: readonly NodeModel[];
}

/** A whole tree as FdtWriter is asked to write it. */
export interface TreeModel {
  readonly bootCpuidPhys: number;
  readonly memReserve: readonly FdtMemReserve[];
  readonly root: NodeModel;
}

/**
 * dtc warnings a random tree may draw, none of them about the blob's format:
 * legal but discouraged characters, and unit addresses without `reg` or not
 * in dtc's preferred form.
 */
export const RANDOM_TREE_WARNINGS: ReadonlySet<string> = new Set([
  "node_name_chars_strict",
  "property_name_chars_strict",
  "unit_address_vs_reg",
  "unit_address_format",
  "unique_unit_address",
]);

/** Node names: all Table 2.1 characters after a leading letter, sometimes a unit address. */
export const nodeNameArb: fc.Arbitrary<string> = fc.stringMatching(/^n[a-zA-Z0-9,._+-]{0,30}(@[0-9a-zA-Z,._+-]{1,10})?$/);

/** Property names: all Table 2.2 characters, starting with 'x' so no name means anything to dtc. */
export const propNameArb: fc.Arbitrary<string> = fc
  .stringMatching(/^x[a-zA-Z0-9,._+?#-]{0,30}$/)
  .filter((n) => !/(-names|-gpios?)$/.test(n));

/** Big-endian u32 cells as bytes. */
export function be32(...cells: number[]): Uint8Array {
  const out = new Uint8Array(cells.length * 4);
  const dv = new DataView(out.buffer);
  cells.forEach((c, i) => {
    dv.setUint32(i * 4, c);
  });
  return out;
}

/** Strings as a NUL-terminated list. */
export function strs(...values: string[]): Uint8Array {
  return new TextEncoder().encode(values.map((v) => `${v}\0`).join(""));
}

/** Property values of every shape toDts distinguishes: bytes, cells, strings, string lists, empty. */
export const valueArb: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc.uint8Array({ maxLength: 24 }),
  fc.array(fc.integer({ min: 0, max: 0xffff_ffff }), { maxLength: 6 }).map((c) => be32(...c)),
  fc.array(fc.stringMatching(/^[ -~\t\n]{0,8}$/), { minLength: 1, maxLength: 4 }).map((s) => strs(...s)),
  fc.constant(new Uint8Array(0)),
);

const propsArb = fc.uniqueArray(fc.tuple(propNameArb, valueArb), { selector: ([n]) => n, maxLength: 5 });

interface RawNode {
  readonly name: string;
  readonly props: readonly (readonly [string, Uint8Array])[];
  readonly children: readonly RawNode[];
  readonly phandle: boolean;
}

const nodeArb = fc.letrec<{ node: RawNode }>((tie) => ({
  node: fc.record({
    name: nodeNameArb,
    props: propsArb,
    phandle: fc.boolean(),
    children: fc.oneof(
      { depthSize: "small", maxDepth: 4 },
      fc.constant([]),
      fc.uniqueArray(tie("node"), { selector: (n) => n.name, maxLength: 4 }),
    ),
  }),
})).node;

const memReserveArb: fc.Arbitrary<FdtMemReserve[]> = fc
  .tuple(
    fc.array(fc.tuple(fc.bigInt({ min: 0n, max: 1n << 40n }), fc.bigInt({ min: 1n, max: 1n << 40n })), { maxLength: 4 }),
    fc.boolean(),
  )
  .map(([pairs, top]) => {
    let base = 0n;
    const out = pairs.map(([gap, size]) => {
      const address = base + gap;
      base = address + size;
      return { address, size };
    });
    // One entry ending exactly at 2^64, the edge of the u64 range.
    if (top) out.push({ address: (1n << 64n) - 0x1000n, size: 0x1000n });
    return out;
  });

/** Random valid trees: root properties and children, phandles on some nodes, reservations, boot CPU. */
export const treeArb: fc.Arbitrary<TreeModel> = fc
  .record({
    bootCpuidPhys: fc.integer({ min: 0, max: 0xffff_ffff }),
    memReserve: memReserveArb,
    props: propsArb,
    children: fc.uniqueArray(nodeArb, { selector: (n) => n.name, maxLength: 5 }),
    phandle: fc.boolean(),
  })
  .map(({ bootCpuidPhys, memReserve, props, children, phandle }) => {
    let next = 1;
    // Phandles are numbered 1, 2, ... in document order, so they are unique.
    const finish = (n: RawNode): NodeModel => {
      const own: readonly (readonly [string, Uint8Array])[] = n.phandle ? [...n.props, ["phandle", be32(next++)]] : n.props;
      return { name: n.name, props: own, children: n.children.map(finish) };
    };
    return { bootCpuidPhys, memReserve, root: finish({ name: "", props, children, phandle }) };
  });

/** Writes a model with FdtWriter. */
export function writeModel(m: TreeModel): Uint8Array {
  const w = new FdtWriter({ bootCpuidPhys: m.bootCpuidPhys });
  for (const r of m.memReserve) w.addMemReserve(r.address, r.size);
  const emit = (n: NodeModel): void => {
    w.beginNode(n.name);
    for (const [name, value] of n.props) w.property(name, value);
    for (const c of n.children) emit(c);
    w.endNode();
  };
  emit(m.root);
  return w.finish();
}

/** The model of a parsed tree, for comparison with the one written. */
export function modelOf(fdt: Fdt): TreeModel {
  const node = (n: FdtNode): NodeModel => ({
    name: n.name,
    props: [...n.properties].map(([k, v]) => [k, v] as const),
    children: n.children.map(node),
  });
  return {
    bootCpuidPhys: fdt.bootCpuidPhys,
    memReserve: fdt.memReserve.map((r) => ({ address: r.address, size: r.size })),
    root: node(fdt.root),
  };
}
