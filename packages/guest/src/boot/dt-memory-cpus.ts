/**
 * Memory and CPUs from the device tree, as Linux finds them at boot.
 *
 * Memory: early_init_dt_scan_memory() (drivers/of/fdt.c) reads every
 * available child of the root whose `device_type` is "memory", with the
 * root's #address-cells / #size-cells; zero-sized ranges are skipped.
 * Reserved ranges: the blob itself, the /memreserve/ block, the static
 * children of /reserved-memory and /chosen's linux,initrd-start/-end
 * (early_init_fdt_scan_reserved_mem, early_init_dt_check_for_initrd).
 *
 * CPUs: the available children of /cpus whose `device_type` is "cpu"
 * (for_each_of_cpu_node), `reg` read with /cpus' #address-cells (1 or 2) and
 * #size-cells 0 (Documentation/devicetree/bindings/cpu/cpu.yaml). arm64:
 * `reg` is the MPIDR_EL1 affinity and may have no bits outside
 * MPIDR_HWID_BITMASK (of_get_cpu_hwid in arch/arm64/kernel/smp.c); riscv64:
 * the hart id, with `riscv,isa` and a `riscv,cpu-intc` child
 * (riscv_of_processor_hartid, riscv_of_parent_hartid). A duplicate id is an
 * error, as in Linux ("duplicate cpu reg properties"). Logical numbers: the
 * boot CPU is 0 and the others follow in tree order.
 */

import type { Fdt, FdtNode } from "@irqlab/fdt";
import type { GuestArch } from "../guest-image.js";
import { cellValue, fault, hex, isAvailable, regions, requiredCells } from "./dt-read.js";
import type { CpuInfo, Region } from "./platform-info.js";

/** MPIDR_HWID_BITMASK (arch/arm64/include/asm/cputype.h): Aff3 and Aff2..Aff0. */
export const MPIDR_HWID_BITMASK = 0xff_00ff_ffff;

/** RAM ranges of the memory nodes, sorted by address; DtFault when there are none. */
export function findMemory(fdt: Fdt): Region[] {
  const out: Region[] = [];
  for (const node of fdt.root.children) {
    if (node.string("device_type") !== "memory" || !isAvailable(node)) continue;
    for (const r of regions(node)) if (r.size > 0) out.push(r);
  }
  if (out.length === 0) fault(`no memory: the device tree has no available node with device_type = "memory"`);
  return out.sort((a, b) => a.base - b.base);
}

/** The reserved ranges besides the blob: /memreserve/, /reserved-memory children with reg, the initrd. */
export function findReserved(fdt: Fdt): Region[] {
  const out: Region[] = [];
  for (const r of fdt.memReserve) {
    const base = Number(r.address);
    const size = Number(r.size);
    if (!Number.isSafeInteger(base + size)) fault(`/memreserve/ entry ${r.address.toString(16)}+${r.size.toString(16)} is beyond 2^53`);
    out.push({ base, size });
  }
  const rm = fdt.root.child("reserved-memory");
  if (rm !== undefined) {
    for (const child of rm.children) if (child.has("reg") && isAvailable(child)) out.push(...regions(child));
  }
  const chosen = fdt.root.child("chosen");
  const start = chosen?.cells("linux,initrd-start");
  const end = chosen?.cells("linux,initrd-end");
  if (start !== undefined && end !== undefined) {
    const s = cellValue(start, 0, start.length, "linux,initrd-start");
    const e = cellValue(end, 0, end.length, "linux,initrd-end");
    if (e > s) out.push({ base: s, size: e - s });
  }
  return out;
}

/** The CPUs of /cpus, unordered (in tree order); see {@link orderCpus}. */
export function findCpus(fdt: Fdt, arch: GuestArch): Omit<CpuInfo, "logical">[] {
  const cpus = fdt.root.child("cpus") ?? fault("no /cpus node");
  const ac = cpus.u32("#address-cells") ?? fault("/cpus has no #address-cells");
  const sc = cpus.u32("#size-cells") ?? fault("/cpus has no #size-cells");
  if ((ac !== 1 && ac !== 2) || sc !== 0) fault(`/cpus has #address-cells = ${ac}, #size-cells = ${sc}; expected 1 or 2, and 0`);
  const out: Omit<CpuInfo, "logical">[] = [];
  const seen = new Map<number, string>();
  for (const node of cpus.children) {
    if (node.string("device_type") !== "cpu" || !isAvailable(node)) continue;
    const reg = requiredCells(node, "reg");
    if (reg.length !== ac) fault(`reg of ${node.path} is ${reg.length} cells; /cpus #address-cells is ${ac}`);
    const hwid = cellValue(reg, 0, ac, `reg of ${node.path}`);
    if (arch === "aarch64" && hwid > MPIDR_HWID_BITMASK) fault(`${node.path}: reg ${hex(hwid)} is not an MPIDR affinity`);
    if (arch === "aarch64" && Math.floor(hwid / 2 ** 24) % 256 !== 0) {
      fault(`${node.path}: reg ${hex(hwid)} has bits outside MPIDR_HWID_BITMASK`);
    }
    const dup = seen.get(hwid);
    if (dup !== undefined) fault(`${node.path} and ${dup} have the same reg ${hex(hwid)}`);
    seen.set(hwid, node.path);
    out.push({
      path: node.path,
      hwid,
      enableMethod: node.string("enable-method"),
      isa: node.string("riscv,isa"),
      intcPhandle: arch === "riscv64" ? cpuIntc(node) : undefined,
    });
  }
  if (out.length === 0) fault(`/cpus has no available cpu node`);
  return out;
}

/** Logical numbering: the boot CPU first, then the others in tree order. */
export function orderCpus(cpus: readonly Omit<CpuInfo, "logical">[], bootHwid: number, arch: GuestArch): CpuInfo[] {
  const boot = cpus.findIndex((c) => c.hwid === bootHwid);
  if (boot < 0) {
    fault(arch === "aarch64" ? `boot CPU (MPIDR ${hex(bootHwid)}) is not in /cpus` : `boot hart ${bootHwid} is not in /cpus`);
  }
  const ordered = [cpus[boot]!, ...cpus.filter((_, i) => i !== boot)];
  return ordered.map((c, logical) => ({ logical, ...c }));
}

/** The phandle of a hart's `riscv,cpu-intc` child (the `interrupts-extended` target of its AIA/PLIC contexts). */
function cpuIntc(cpu: FdtNode): number | undefined {
  const intc = cpu.children.find((c) => c.isCompatible("riscv,cpu-intc"));
  return intc?.phandle;
}

