/**
 * The interrupt controllers of the device tree: the Arm GICv3 with its ITS
 * children, and the RISC-V AIA's IMSICs and APLIC domains, read as Linux's
 * drivers read them:
 *
 * - GICv3: gic_of_init() (drivers/irqchip/irq-gic-v3.c): `reg` entry 0 is the
 *   distributor, entries 1..`#redistributor-regions` (default 1) the
 *   redistributor regions, then optional GICC/GICH/GICV; an optional
 *   `redistributor-stride`. ITS children: its_of_probe()
 *   (irq-gic-v3-its.c) takes the available `arm,gic-v3-its` nodes that have
 *   `msi-controller` and ignores the rest.
 * - IMSIC: imsic_parse_fwnode() (irq-riscv-imsic-state.c): the defaults and
 *   range checks of `riscv,guest-index-bits`, `riscv,hart-index-bits`,
 *   `riscv,group-index-bits`, `riscv,group-index-shift`, `riscv,num-ids`
 *   and `riscv,num-guest-ids` (63 <= n < 2048 and n & 63 == 63), one parent
 *   interrupt per hart in `interrupts-extended`.
 * - APLIC: aplic_setup_priv() and the binding riscv,aplic.yaml:
 *   `riscv,num-sources` 1..1023, `msi-parent` (MSI mode) or
 *   `interrupts-extended` (direct mode), `riscv,children`,
 *   `riscv,delegation` (QEMU 7.2–8.1 wrote `riscv,delegate`).
 *
 * Which privilege level a node serves follows from the hart interrupt it
 * signals: IRQ_S_EXT (9) supervisor, IRQ_M_EXT (11) machine.
 */

import type { Fdt, FdtNode } from "@irqlab/fdt";
import {
  byPhandle,
  cellValue,
  cellsNumber,
  fault,
  firstRegion,
  interruptsExtended,
  isAvailable,
  phandleTargets,
  regions,
} from "./dt-read.js";
import type { AiaLevel, AplicInfo, Gicv3Info, ImsicInfo, ItsInfo } from "./platform-info.js";

/** RISC-V interrupt cause: supervisor external interrupt. */
export const IRQ_S_EXT = 9;
/** RISC-V interrupt cause: machine external interrupt. */
export const IRQ_M_EXT = 11;
/** IMSIC_MMIO_PAGE_SHIFT: one interrupt file is a 4 KiB page. */
const IMSIC_MMIO_PAGE_SHIFT = 12;
/** IMSIC_MIN_ID / IMSIC_MAX_ID of the Linux driver. */
const IMSIC_MIN_ID = 63;
const IMSIC_MAX_ID = 2048;
/** BITS_PER_LONG on riscv64. */
const BITS_PER_LONG = 64;

/** The GICv3: the first available `arm,gic-v3` node, or undefined. */
export function findGicv3(fdt: Fdt): Gicv3Info | undefined {
  const node = fdt.findCompatible("arm,gic-v3").find(isAvailable);
  if (node === undefined) return undefined;
  const regs = regions(node);
  const nrRedist = node.u32("#redistributor-regions") ?? 1;
  if (nrRedist < 1) fault(`${node.path}: #redistributor-regions is 0`);
  if (regs.length < 1 + nrRedist) {
    fault(`reg of ${node.path} has ${regs.length} entries; the distributor and ${nrRedist} redistributor region(s) need ${1 + nrRedist}`);
  }
  const its: ItsInfo[] = [];
  for (const child of node.children) {
    if (!child.isCompatible("arm,gic-v3-its") || !isAvailable(child) || !child.has("msi-controller")) continue;
    its.push({ path: child.path, phandle: child.phandle, region: firstRegion(child), msiCells: child.u32("#msi-cells") ?? 0 });
  }
  return {
    path: node.path,
    phandle: node.phandle,
    interruptCells: node.u32("#interrupt-cells") ?? fault(`${node.path} has no #interrupt-cells`),
    distributor: regs[0]!,
    redistributorRegions: regs.slice(1, 1 + nrRedist),
    redistributorStride: cellsNumber(node, "redistributor-stride"),
    otherRegions: regs.slice(1 + nrRedist),
    its,
  };
}

/** The available IMSIC nodes, in tree order. */
export function findImsics(fdt: Fdt): ImsicInfo[] {
  return aiaNodes(fdt, "riscv,imsics", "qemu,imsics").map((node) => imsic(fdt, node));
}

/** The available APLIC domains, in tree order; `imsics` gives the level of MSI-mode domains. */
export function findAplics(fdt: Fdt, imsics: readonly ImsicInfo[]): AplicInfo[] {
  return aiaNodes(fdt, "riscv,aplic", "qemu,aplic").map((node) => aplic(fdt, node, imsics));
}

function aiaNodes(fdt: Fdt, ...compatible: string[]): FdtNode[] {
  const out: FdtNode[] = [];
  for (const n of fdt.nodes()) if (compatible.some((c) => n.isCompatible(c)) && isAvailable(n)) out.push(n);
  return out;
}

function imsic(fdt: Fdt, node: FdtNode): ImsicInfo {
  const { harts, level } = hartInterrupts(fdt, node);
  if (harts.length === 0) fault(`${node.path}: interrupts-extended names no hart`);
  const what = (p: string): string => `${node.path}: ${p}`;
  const guestIndexBits = node.u32("riscv,guest-index-bits") ?? 0;
  if (guestIndexBits > BITS_PER_LONG - IMSIC_MMIO_PAGE_SHIFT) fault(what(`riscv,guest-index-bits ${guestIndexBits} is too large`));
  let hartIndexBits = node.u32("riscv,hart-index-bits");
  if (hartIndexBits === undefined) {
    // __fls(nr_parent_irqs), plus one when that many bits cannot number every hart.
    hartIndexBits = 31 - Math.clz32(harts.length);
    if (2 ** hartIndexBits < harts.length) hartIndexBits++;
  }
  if (hartIndexBits > BITS_PER_LONG - IMSIC_MMIO_PAGE_SHIFT - guestIndexBits) fault(what(`riscv,hart-index-bits ${hartIndexBits} is too large`));
  const groupIndexBits = node.u32("riscv,group-index-bits") ?? 0;
  if (groupIndexBits > BITS_PER_LONG - IMSIC_MMIO_PAGE_SHIFT - guestIndexBits - hartIndexBits) {
    fault(what(`riscv,group-index-bits ${groupIndexBits} is too large`));
  }
  const groupIndexShift = node.u32("riscv,group-index-shift") ?? 2 * IMSIC_MMIO_PAGE_SHIFT;
  if (groupIndexBits + groupIndexShift - 1 >= BITS_PER_LONG) fault(what(`riscv,group-index-shift ${groupIndexShift} is too large`));
  const numIds = node.u32("riscv,num-ids") ?? fault(what("no riscv,num-ids"));
  checkIds(numIds, what("riscv,num-ids"));
  const numGuestIds = node.u32("riscv,num-guest-ids") ?? numIds;
  checkIds(numGuestIds, what("riscv,num-guest-ids"));
  const regs = regions(node);
  return {
    path: node.path,
    phandle: node.phandle,
    compatible: node.stringList("compatible") ?? [],
    level,
    regions: regs,
    harts,
    numIds,
    numGuestIds,
    guestIndexBits,
    hartIndexBits,
    groupIndexBits,
    groupIndexShift,
    ipiId: node.u32("riscv,ipi-id"),
  };
}

function checkIds(n: number, what: string): void {
  if (n < IMSIC_MIN_ID || n >= IMSIC_MAX_ID || (n & IMSIC_MIN_ID) !== IMSIC_MIN_ID) {
    fault(`${what} is ${n}; it must be 63..2047 with the low 6 bits set`);
  }
}

function aplic(fdt: Fdt, node: FdtNode, imsics: readonly ImsicInfo[]): AplicInfo {
  const numSources = node.u32("riscv,num-sources") ?? fault(`${node.path} has no riscv,num-sources`);
  if (numSources < 1 || numSources > 1023) fault(`${node.path}: riscv,num-sources ${numSources} is not 1..1023`);
  const msiParent = phandleTargets(fdt, node, "msi-parent", "#msi-cells")[0];
  let level: AiaLevel | undefined;
  let harts: number[] = [];
  if (msiParent !== undefined) {
    const parent = imsics.find((i) => i.path === msiParent);
    if (parent === undefined) fault(`msi-parent of ${node.path} is ${msiParent}, not an available IMSIC`);
    level = parent.level;
  } else if (node.has("interrupts-extended")) {
    ({ harts, level } = hartInterrupts(fdt, node));
  } else {
    fault(`${node.path} has neither msi-parent nor interrupts-extended`);
  }
  const children = (node.cells("riscv,children") ?? []).map((ph) => byPhandle(fdt, ph, `riscv,children of ${node.path}`).path);
  const delegationName = node.has("riscv,delegation") ? "riscv,delegation" : "riscv,delegate";
  const d = node.cells(delegationName) ?? [];
  if (d.length % 3 !== 0) fault(`${delegationName} of ${node.path} is ${d.length} cells, not <child first last> triplets`);
  const delegation: AplicInfo["delegation"][number][] = [];
  for (let i = 0; i < d.length; i += 3) {
    delegation.push({ child: byPhandle(fdt, d[i]!, `${delegationName} of ${node.path}`).path, first: d[i + 1]!, last: d[i + 2]! });
  }
  return {
    path: node.path,
    phandle: node.phandle,
    compatible: node.stringList("compatible") ?? [],
    level,
    region: firstRegion(node),
    numSources,
    delivery: msiParent !== undefined ? "msi" : "direct",
    msiParent,
    harts,
    children,
    delegation,
  };
}

/**
 * The harts of `interrupts-extended` entries that target `riscv,cpu-intc`
 * nodes, and the level of the external interrupt they all signal.
 */
function hartInterrupts(fdt: Fdt, node: FdtNode): { harts: number[]; level: AiaLevel } {
  const harts: number[] = [];
  let level: AiaLevel | undefined;
  for (const spec of interruptsExtended(fdt, node)) {
    const intc = fdt.findNode(spec.controller);
    const cpu = intc?.parent;
    if (intc?.isCompatible("riscv,cpu-intc") !== true || cpu === undefined) {
      fault(`interrupts-extended of ${node.path} targets ${spec.controller}, not a hart's riscv,cpu-intc`);
    }
    const cause = spec.cells[0];
    const l = cause === IRQ_S_EXT ? "supervisor" : cause === IRQ_M_EXT ? "machine" : undefined;
    if (l === undefined) fault(`interrupts-extended of ${node.path}: cause ${cause ?? "none"} is not an external interrupt (9 or 11)`);
    if (level !== undefined && l !== level) fault(`interrupts-extended of ${node.path} mixes supervisor and machine interrupts`);
    level = l;
    const reg = cpu.cells("reg") ?? fault(`${cpu.path} has no reg`);
    harts.push(cellValue(reg, 0, reg.length, `reg of ${cpu.path}`));
  }
  return { harts, level: level ?? "supervisor" };
}
