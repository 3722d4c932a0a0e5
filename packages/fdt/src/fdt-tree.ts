/**
 * Fdt: a parsed devicetree blob as a whole — its header values, memory
 * reservations and root node — with the look-ups a client program makes:
 * by path (with `/aliases`, as libfdt's fdt_path_offset()), by phandle, and by
 * `compatible`.
 */

import type { FdtNode } from "./fdt-node.js";

/** One memory reservation entry: a physical range the client program must not use (§5.3). */
export interface FdtMemReserve {
  readonly address: bigint;
  readonly size: bigint;
}

/** A parsed flattened devicetree. Returned by parseFdt. */
export interface Fdt {
  /** `version` of the header: 16 or 17 (or later, when backwards compatible with 17). */
  readonly version: number;
  /** `last_comp_version` of the header. */
  readonly lastCompVersion: number;
  /** `boot_cpuid_phys` of the header: the physical id of the boot CPU. */
  readonly bootCpuidPhys: number;
  /** The memory reservation block's entries, in order, without the terminating entry. */
  readonly memReserve: readonly FdtMemReserve[];
  /** The root node. */
  readonly root: FdtNode;
  /** The node whose `phandle` (or `linux,phandle`) is `phandle`, or undefined. */
  nodeByPhandle(phandle: number): FdtNode | undefined;
  /**
   * The node at `path`: absolute ("/soc/serial@10000000"; a component without
   * '@' may omit the unit address, see FdtNode.child), or starting with an
   * alias from `/aliases` ("serial0", "serial0/child"). Undefined if none;
   * FdtError if the alias property is not a string.
   */
  findNode(path: string): FdtNode | undefined;
  /** Every node whose `compatible` contains `compatible`, in blob order. */
  findCompatible(compatible: string): FdtNode[];
  /** All nodes, depth first in blob order, the root first. */
  nodes(): Generator<FdtNode>;
}

/** The header fields an Fdt reports. */
export interface FdtHeaderValues {
  readonly version: number;
  readonly lastCompVersion: number;
  readonly bootCpuidPhys: number;
}

/** The Fdt parseFdt builds; its phandle index was filled and checked during the parse. */
export class FdtTree implements Fdt {
  readonly version: number;
  readonly lastCompVersion: number;
  readonly bootCpuidPhys: number;
  readonly memReserve: readonly FdtMemReserve[];
  readonly root: FdtNode;
  readonly #byPhandle: ReadonlyMap<number, FdtNode>;

  constructor(header: FdtHeaderValues, memReserve: readonly FdtMemReserve[], root: FdtNode, byPhandle: ReadonlyMap<number, FdtNode>) {
    this.version = header.version;
    this.lastCompVersion = header.lastCompVersion;
    this.bootCpuidPhys = header.bootCpuidPhys;
    this.memReserve = Object.freeze([...memReserve]);
    this.root = root;
    this.#byPhandle = byPhandle;
  }

  nodeByPhandle(phandle: number): FdtNode | undefined {
    return this.#byPhandle.get(phandle);
  }

  findNode(path: string): FdtNode | undefined {
    let node: FdtNode | undefined = this.root;
    let rest = path;
    if (!path.startsWith("/")) {
      // libfdt: a path not starting with '/' starts with an alias, whose value
      // is itself an absolute path; aliases do not chain.
      const slash = path.indexOf("/");
      const alias = slash < 0 ? path : path.slice(0, slash);
      if (alias === "") return undefined;
      const target = this.root.child("aliases")?.string(alias);
      if (target?.startsWith("/") !== true) return undefined;
      node = this.findNode(target);
      rest = slash < 0 ? "" : path.slice(slash);
    }
    for (const part of rest.split("/")) {
      if (part === "") continue; // leading, trailing and doubled '/' are ignored, as libfdt does
      node = node?.child(part);
    }
    return node;
  }

  findCompatible(compatible: string): FdtNode[] {
    return [...this.root.walk()].filter((n) => n.isCompatible(compatible));
  }

  nodes(): Generator<FdtNode> {
    return this.root.walk();
  }
}
