/**
 * The devices the boot layer needs from the device tree besides memory, CPUs
 * and interrupt controllers:
 *
 * - the console: /chosen `stdout-path` (or the older `linux,stdout-path`),
 *   a path or alias with optional ":options" (of_alias_scan / of_stdout in
 *   drivers/of/base.c), naming an `arm,pl011` (drivers/tty/serial/amba-pl011.c)
 *   or an 8250-family UART (`ns16550a`, `ns16550`, `ns16450`, `ns8250`;
 *   drivers/tty/serial/8250/8250_of.c: `reg-offset`, `reg-shift`,
 *   `reg-io-width`, `clock-frequency`);
 * - PSCI: `arm,psci-1.0`, `arm,psci-0.2` or `arm,psci` with `method`
 *   (drivers/firmware/psci/psci.c psci_dt_init; bindings arm/psci.yaml);
 * - generic ECAM PCIe hosts: `pci-host-ecam-generic` with `reg`, `ranges`,
 *   `bus-range`, `linux,pci-domain`, `msi-map` / `msi-map-mask` or
 *   `msi-parent` (pci/host-generic-pci.yaml, pci/pci-msi.txt; of_map_id()
 *   reads `msi-map` as <rid-base phandle out-base length> quadruples).
 */

import { FdtError, type Fdt, type FdtNode } from "@irqlab/fdt";
import type { GuestArch } from "../guest-image.js";
import {
  DtFault,
  byPhandle,
  cellValue,
  fault,
  firstRegion,
  interruptsOf,
  isAvailable,
  ownAddressCells,
  ownSizeCells,
  phandleTargets,
  requiredCells,
  translate,
} from "./dt-read.js";
import type { InterruptSpec, MsiMapEntry, PciRange, PcieHostInfo, PsciInfo, UartInfo } from "./platform-info.js";

/** PSCI 0.2+ function ids (DEN0022 §5.1; Linux include/uapi/linux/psci.h). */
const PSCI_0_2_FN_CPU_OFF = 0x8400_0002;
const PSCI_0_2_FN64_CPU_ON = 0xc400_0003;
const PSCI_0_2_FN_SYSTEM_OFF = 0x8400_0008;
const PSCI_0_2_FN_SYSTEM_RESET = 0x8400_0009;

/** Compatibles the 8250 driver's register interface serves here. */
const NS16550_COMPATIBLES = ["ns16550a", "ns16550", "ns16450", "ns8250"] as const;

/**
 * The console UART named by /chosen `stdout-path`. Without one, arm64 has no
 * console (DtFault); riscv64 returns undefined and writes to the SBI debug
 * console, as Linux's `earlycon=sbi` and hvc_riscv_sbi do.
 */
export function findConsole(fdt: Fdt, arch: GuestArch): UartInfo | undefined {
  const chosen = fdt.root.child("chosen");
  const spec = chosen?.string("stdout-path") ?? chosen?.string("linux,stdout-path");
  if (spec === undefined) {
    if (arch === "riscv64") return undefined;
    fault(chosen === undefined ? "no console: the device tree has no /chosen node" : "no console: /chosen has no stdout-path");
  }
  const path = spec.split(":")[0] ?? "";
  const node = fdt.findNode(path) ?? fault(`/chosen stdout-path "${spec}" names no node`);
  if (!isAvailable(node)) fault(`/chosen stdout-path names ${node.path}, which is disabled`);
  const interrupts = consoleInterrupts(fdt, node);
  if (node.isCompatible("arm,pl011")) return { kind: "pl011", path: node.path, region: firstRegion(node), interrupts };
  if (NS16550_COMPATIBLES.some((c) => node.isCompatible(c))) {
    const reg = firstRegion(node);
    const offset = node.u32("reg-offset") ?? 0;
    const regIoWidth = node.u32("reg-io-width") ?? 1;
    if (regIoWidth !== 1 && regIoWidth !== 2 && regIoWidth !== 4) fault(`${node.path}: reg-io-width ${regIoWidth} is not 1, 2 or 4`);
    const regShift = node.u32("reg-shift") ?? 0;
    if (regShift > 3) fault(`${node.path}: reg-shift ${regShift} is larger than 3`);
    return {
      kind: "ns16550a",
      path: node.path,
      region: { base: reg.base + offset, size: Math.max(0, reg.size - offset) },
      regShift,
      regIoWidth,
      clockFrequency: node.u32("clock-frequency"),
      interrupts,
    };
  }
  const compatible = node.stringList("compatible") ?? [];
  return fault(
    `/chosen stdout-path names ${node.path}, which has no console driver here (compatible ${compatible.length === 0 ? "absent" : compatible.map((c) => `"${c}"`).join(", ")})`,
  );
}

/**
 * The console's interrupts, best effort: the console is written by polling,
 * as earlycon does, so an interrupt that cannot be resolved leaves the list
 * empty instead of costing the guest its console.
 */
function consoleInterrupts(fdt: Fdt, node: FdtNode): InterruptSpec[] {
  try {
    return interruptsOf(fdt, node);
  } catch (e) {
    if (e instanceof DtFault || e instanceof FdtError) return [];
    throw e;
  }
}

/** PSCI from the first available PSCI node, or undefined. */
export function findPsci(fdt: Fdt): PsciInfo | undefined {
  let node: FdtNode | undefined;
  for (const n of fdt.nodes()) {
    if ((n.isCompatible("arm,psci-1.0") || n.isCompatible("arm,psci-0.2") || n.isCompatible("arm,psci")) && isAvailable(n)) {
      node = n;
      break;
    }
  }
  if (node === undefined) return undefined;
  const method = node.string("method") ?? fault(`${node.path} has no "method" property`);
  if (method !== "hvc" && method !== "smc") fault(`${node.path}: invalid "method" property "${method}" (expected "hvc" or "smc")`);
  const version = node.isCompatible("arm,psci-1.0") ? "1.0" : node.isCompatible("arm,psci-0.2") ? "0.2" : "0.1";
  if (version === "0.1") {
    // PSCI 0.1 has no standard function ids: the node gives them, and there is no SYSTEM_OFF.
    return { path: node.path, version, method, cpuOn: node.u32("cpu_on"), cpuOff: node.u32("cpu_off"), systemOff: undefined, systemReset: undefined };
  }
  return {
    path: node.path,
    version,
    method,
    cpuOn: PSCI_0_2_FN64_CPU_ON,
    cpuOff: PSCI_0_2_FN_CPU_OFF,
    systemOff: PSCI_0_2_FN_SYSTEM_OFF,
    systemReset: PSCI_0_2_FN_SYSTEM_RESET,
  };
}

/** The available generic ECAM PCIe hosts, in tree order. */
export function findPcieHosts(fdt: Fdt): PcieHostInfo[] {
  return fdt.findCompatible("pci-host-ecam-generic").filter(isAvailable).map((node) => pcieHost(fdt, node));
}

function pcieHost(fdt: Fdt, node: FdtNode): PcieHostInfo {
  const busRange = node.cells("bus-range") ?? [0, 0xff];
  if (busRange.length !== 2 || busRange[0]! > busRange[1]! || busRange[1]! > 0xff) {
    fault(`${node.path}: bad bus-range <${busRange.join(" ")}>`);
  }
  const mask = node.u32("msi-map-mask");
  const map = node.cells("msi-map") ?? [];
  if (map.length % 4 !== 0) fault(`msi-map of ${node.path} is ${map.length} cells, not <rid-base phandle out-base length> quadruples`);
  const msiMap: MsiMapEntry[] = [];
  for (let i = 0; i < map.length; i += 4) {
    const controller = byPhandle(fdt, map[i + 1]!, `msi-map of ${node.path}`);
    if (!controller.has("msi-controller")) fault(`msi-map of ${node.path} names ${controller.path}, which is not an msi-controller`);
    msiMap.push({ ridBase: map[i]!, controller: controller.path, outBase: map[i + 2]!, length: map[i + 3]! });
  }
  return {
    path: node.path,
    ecam: firstRegion(node),
    busRange: [busRange[0]!, busRange[1]!],
    domain: node.u32("linux,pci-domain"),
    ranges: pciRanges(node),
    msiMap,
    msiMapMask: mask,
    msiParent: phandleTargets(fdt, node, "msi-parent", "#msi-cells")[0],
    dmaCoherent: node.has("dma-coherent"),
  };
}

/** `ranges` of a PCI host: <phys.hi phys.mid phys.lo> <CPU address> <size> entries (IEEE 1275 PCI binding §2.2.1.1). */
function pciRanges(node: FdtNode): PciRange[] {
  const ac = ownAddressCells(node);
  const sc = ownSizeCells(node);
  if (ac !== 3) fault(`${node.path}: #address-cells is ${ac}; a PCI bus has 3`);
  const parentAc = ownAddressCells(node.parent ?? fault(`${node.path} has no parent`));
  const cells = requiredCells(node, "ranges");
  const per = ac + parentAc + sc;
  if (cells.length % per !== 0) fault(`ranges of ${node.path} is ${cells.length} cells, not a whole number of ${per}-cell entries`);
  const out: PciRange[] = [];
  for (let i = 0; i < cells.length; i += per) {
    const hi = cells[i]!;
    const code = (hi >>> 24) & 3;
    const size = cellValue(cells, i + ac + parentAc, sc, `ranges size of ${node.path}`);
    const parentAddress = cellValue(cells, i + ac, parentAc, `ranges CPU address of ${node.path}`);
    out.push({
      space: code === 0 ? "config" : code === 1 ? "io" : code === 2 ? "mem32" : "mem64",
      prefetchable: (hi & 0x4000_0000) !== 0,
      pciAddress: cellValue(cells, i + 1, 2, `ranges PCI address of ${node.path}`),
      cpuAddress: translate(node, parentAddress, size),
      size,
    });
  }
  return out;
}
