/**
 * Enumeration of a generic ECAM host bridge's root bus, as Linux does it
 * for `pci-host-ecam-generic` (drivers/pci/probe.c pci_scan_child_bus,
 * pci_scan_slot, pci_setup_device, __pci_read_base; drivers/pci/setup-res.c
 * and setup-bus.c for the assignment): every slot of bus 0 is probed
 * through the vendor ID, function 0's header type says whether functions
 * 1–7 exist, each type 0 function's BARs are sized (decode disabled,
 * all-ones written, the mask read back, the value restored) and then
 * assigned from the bridge's `ranges` windows, largest first, 64-bit BARs
 * above 4 GiB when a window is there; pci_enable_device / pci_set_master
 * set the command register. Bridges (type 1) are listed but not followed:
 * QEMU's virt root bus has none unless a root port is plugged.
 */

import type { PcieHostInfo, PciRange } from "../boot/platform-info.js";
import type { GuestCode } from "../guest-image.js";
import * as C from "./pci-config.js";
import { PciConfig, pciName, requesterId, type PciAddress } from "./pci-config.js";

/** One BAR of a function. */
export interface PciBar {
  /** BAR number 0..5 (a 64-bit BAR takes n and n + 1). */
  readonly index: number;
  readonly kind: "io" | "mem32" | "mem64";
  readonly prefetchable: boolean;
  readonly size: number;
  /** The bus address the BAR was given; undefined if no window had room. */
  pciAddress: number | undefined;
  /** The same address as the CPU sees it (through the window's translation). */
  cpuAddress: number | undefined;
}

/** A function found on the bus. */
export interface PciFunctionInfo {
  readonly address: PciAddress;
  /** "0000:00:01.0". */
  readonly name: string;
  readonly config: PciConfig;
  readonly vendorId: number;
  readonly deviceId: number;
  /** Class code (24 bits: class, subclass, prog-if). */
  readonly classCode: number;
  readonly revision: number;
  /** Header type without the multi-function bit (0 = endpoint, 1 = bridge). */
  readonly headerType: number;
  readonly bars: PciBar[];
  /** Capability IDs in list order. */
  readonly capabilities: readonly number[];
  /** bus << 8 | devfn. */
  readonly requesterId: number;
}

/** What {@link enumeratePciBus} found, with Linux-style log lines. */
export interface PciEnumeration {
  readonly functions: PciFunctionInfo[];
  readonly log: string[];
}

const PCI_COMMAND_DECODE_ENABLE = C.PCI_COMMAND_MEMORY | C.PCI_COMMAND_IO;
const FOUR_GIB = 2 ** 32;

/** __pci_read_base(): sizes the BAR at `index`; returns it (unassigned) and how many BAR slots it takes. */
function* sizeBar(cfg: PciConfig, index: number): GuestCode<{ bar: PciBar | undefined; slots: number }> {
  const pos = C.PCI_BASE_ADDRESS_0 + 4 * index;
  const l = yield* cfg.read32(pos);
  yield* cfg.write32(pos, 0xffff_ffff);
  const sz = yield* cfg.read32(pos);
  yield* cfg.write32(pos, l);
  if (sz === 0 || sz === 0xffff_ffff) return { bar: undefined, slots: 1 };
  if ((l & C.PCI_BASE_ADDRESS_SPACE_IO) !== 0) {
    const size = (~(sz & C.PCI_BASE_ADDRESS_IO_MASK) & 0xffff) + 1;
    return { bar: { index, kind: "io", prefetchable: false, size, pciAddress: undefined, cpuAddress: undefined }, slots: 1 };
  }
  const prefetchable = (l & C.PCI_BASE_ADDRESS_MEM_PREFETCH) !== 0;
  if ((l & C.PCI_BASE_ADDRESS_MEM_TYPE_MASK) === C.PCI_BASE_ADDRESS_MEM_TYPE_64 && index < 5) {
    const lh = yield* cfg.read32(pos + 4);
    yield* cfg.write32(pos + 4, 0xffff_ffff);
    const szh = yield* cfg.read32(pos + 4);
    yield* cfg.write32(pos + 4, lh);
    const mask = (sz & C.PCI_BASE_ADDRESS_MEM_MASK) >>> 0;
    // size = ~(sz64) + 1 over 64 bits.
    const size = szh === 0xffff_ffff ? FOUR_GIB - mask : (~szh >>> 0) * FOUR_GIB + (FOUR_GIB - mask);
    return { bar: { index, kind: "mem64", prefetchable, size, pciAddress: undefined, cpuAddress: undefined }, slots: 2 };
  }
  const size = FOUR_GIB - ((sz & C.PCI_BASE_ADDRESS_MEM_MASK) >>> 0);
  return { bar: { index, kind: "mem32", prefetchable, size, pciAddress: undefined, cpuAddress: undefined }, slots: 1 };
}

/** A window's allocation cursor. */
interface Window {
  readonly range: PciRange;
  next: number;
}

function windowFor(bar: PciBar, windows: Window[]): Window | undefined {
  const fits = (w: Window): boolean => {
    const at = Math.ceil(w.next / bar.size) * bar.size;
    return at + bar.size <= w.range.pciAddress + w.range.size;
  };
  if (bar.kind === "io") return windows.find((w) => w.range.space === "io" && fits(w));
  const mem = windows.filter((w) => (w.range.space === "mem32" || w.range.space === "mem64") && (!w.range.prefetchable || bar.prefetchable));
  // pci_bus_alloc_resource(): a 64-bit BAR tries the region above 4 GiB first.
  if (bar.kind === "mem64") {
    const high = mem.find((w) => w.range.pciAddress >= FOUR_GIB && fits(w));
    if (high !== undefined) return high;
  }
  return mem.find((w) => w.range.pciAddress + w.range.size <= FOUR_GIB && fits(w));
}

function barText(bar: PciBar, start: number): string {
  const kind = bar.kind === "io" ? "io" : "mem";
  const flags = `${bar.kind === "mem64" ? " 64bit" : ""}${bar.prefetchable ? " pref" : ""}`;
  return `BAR ${bar.index} [${kind} 0x${start.toString(16).padStart(8, "0")}-0x${(start + bar.size - 1).toString(16).padStart(8, "0")}${flags}]`;
}

/**
 * Scans bus `host.busRange[0]` of the host bridge, sizes every BAR, assigns
 * them from `host.ranges`, enables memory/I/O decode and bus mastering on
 * each endpoint that got all its BARs.
 */
export function* enumeratePciBus(host: PcieHostInfo): GuestCode<PciEnumeration> {
  const bus = host.busRange[0];
  const functions: PciFunctionInfo[] = [];
  const log: string[] = [];
  const domain = host.domain ?? 0;
  for (let slot = 0; slot < 32; slot++) {
    for (let fn = 0; fn < 8; fn++) {
      const address: PciAddress = { bus, devfn: C.pciDevfn(slot, fn) };
      const cfg = new PciConfig(host.ecam.base, address);
      const id = yield* cfg.read32(C.PCI_VENDOR_ID);
      // pci_bus_generic_read_dev_vendor_id(): all-ones or all-zeroes in the vendor field is "nothing here".
      const vendor = id & 0xffff;
      if (vendor === 0xffff || vendor === 0) {
        if (fn === 0) break;
        continue;
      }
      const hdr = yield* cfg.read8(C.PCI_HEADER_TYPE);
      const classRev = yield* cfg.read32(C.PCI_CLASS_REVISION);
      const headerType = hdr & C.PCI_HEADER_TYPE_MASK;
      const name = pciName(address, domain);
      const classCode = classRev >>> 8;
      log.push(`pci ${name}: [${vendor.toString(16).padStart(4, "0")}:${(id >>> 16).toString(16).padStart(4, "0")}] type ${headerType.toString(16).padStart(2, "0")} class 0x${classCode.toString(16).padStart(6, "0")}`);
      const bars: PciBar[] = [];
      if (headerType === C.PCI_HEADER_TYPE_NORMAL) {
        const cmd = yield* cfg.read16(C.PCI_COMMAND);
        if ((cmd & PCI_COMMAND_DECODE_ENABLE) !== 0) yield* cfg.write16(C.PCI_COMMAND, cmd & ~PCI_COMMAND_DECODE_ENABLE);
        for (let i = 0; i < 6; ) {
          const { bar, slots } = yield* sizeBar(cfg, i);
          if (bar !== undefined) bars.push(bar);
          i += slots;
        }
        if ((cmd & PCI_COMMAND_DECODE_ENABLE) !== 0) yield* cfg.write16(C.PCI_COMMAND, cmd);
      }
      const capabilities = yield* cfg.capabilities();
      functions.push({ address, name, config: cfg, vendorId: vendor, deviceId: id >>> 16, classCode, revision: classRev & 0xff, headerType, bars, capabilities, requesterId: requesterId(address) });
      if (fn === 0 && (hdr & C.PCI_HEADER_TYPE_MFD) === 0) break;
    }
  }
  yield* assignAndEnable(host, functions, log);
  return { functions, log };
}

/** pci_assign_unassigned_resources() for the root bus, then pci_enable_device + pci_set_master. */
function* assignAndEnable(host: PcieHostInfo, functions: PciFunctionInfo[], log: string[]): GuestCode {
  const windows: Window[] = host.ranges.filter((r) => r.space !== "config").map((r) => ({ range: r, next: r.pciAddress }));
  const all = functions.flatMap((f) => f.bars.map((bar) => ({ f, bar })));
  // __dev_sort_resources(): the largest alignment first, so smaller BARs fill the gaps after it.
  all.sort((a, b) => b.bar.size - a.bar.size);
  for (const { f, bar } of all) {
    const w = windowFor(bar, windows);
    if (w === undefined) {
      log.push(`pci ${f.name}: ${barText(bar, 0)}: can't assign; no space`);
      continue;
    }
    const at = Math.ceil(w.next / bar.size) * bar.size;
    w.next = at + bar.size;
    bar.pciAddress = at;
    bar.cpuAddress = w.range.cpuAddress + (at - w.range.pciAddress);
    const pos = C.PCI_BASE_ADDRESS_0 + 4 * bar.index;
    const low = bar.kind === "io" ? at : at % FOUR_GIB;
    yield* f.config.write32(pos, low >>> 0);
    if (bar.kind === "mem64") yield* f.config.write32(pos + 4, Math.floor(at / FOUR_GIB));
    log.push(`pci ${f.name}: ${barText(bar, at)}: assigned`);
  }
  for (const f of functions) {
    if (f.headerType !== C.PCI_HEADER_TYPE_NORMAL || f.bars.some((b) => b.pciAddress === undefined)) continue;
    let cmd = yield* f.config.read16(C.PCI_COMMAND);
    if (f.bars.some((b) => b.kind !== "io")) cmd |= C.PCI_COMMAND_MEMORY;
    if (f.bars.some((b) => b.kind === "io")) cmd |= C.PCI_COMMAND_IO;
    yield* f.config.write16(C.PCI_COMMAND, cmd | C.PCI_COMMAND_MASTER);
  }
}

/** The CPU address of BAR `index` of `f`, or undefined if it has none or it was not assigned. */
export function barAddress(f: PciFunctionInfo, index: number): number | undefined {
  return f.bars.find((b) => b.index === index)?.cpuAddress;
}
