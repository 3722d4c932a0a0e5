/**
 * parsePlatformInfo: a parsed device tree to the PlatformInfo the boot layer
 * hands to images, or the message to panic with.
 *
 * The console and PSCI are looked for first, each on its own, so that a
 * panic about anything else can still be printed and still power off. Every
 * fault is a DtFault or an FdtError from a typed accessor of @irqlab/fdt; both
 * become `{ ok: false, message }`, never an exception.
 */

import { FdtError, type Fdt } from "@irqlab/fdt";
import type { GuestArch } from "../guest-image.js";
import { findConsole, findPcieHosts, findPsci } from "./dt-devices.js";
import { findAplics, findGicv3, findImsics } from "./dt-irqchips.js";
import { findArchTimer } from "./dt-timer.js";
import { findCpus, findMemory, findReserved, orderCpus } from "./dt-memory-cpus.js";
import { DtFault, fault } from "./dt-read.js";
import type { PlatformInfo, PsciInfo, Region, UartInfo } from "./platform-info.js";

/** Where the blob was found and which CPU is booting: what the boot registers and the CPU told the guest. */
export interface PlatformParseContext {
  /** The blob's guest-physical address and its totalsize. */
  readonly fdt: Region;
  /** The boot CPU: MPIDR_EL1 & MPIDR_HWID_BITMASK on arm64, a0 (hart id) on riscv64. */
  readonly bootHwid: number;
}

/** The outcome of {@link parsePlatformInfo}. */
export type PlatformParseResult =
  | { readonly ok: true; readonly platform: PlatformInfo }
  | {
      readonly ok: false;
      /** What the guest panics with. */
      readonly message: string;
      /** The console, if it was found before the fault (for printing the panic). */
      readonly console: UartInfo | undefined;
      /** PSCI, if it was found (for powering off after the panic). */
      readonly psci: PsciInfo | undefined;
    };

/** Reads everything PlatformInfo holds from `fdt`, as a guest of architecture `arch`. */
export function parsePlatformInfo(fdt: Fdt, arch: GuestArch, ctx: PlatformParseContext): PlatformParseResult {
  const console = attempt(() => findConsole(fdt, arch));
  const psci = arch === "aarch64" ? attempt(() => findPsci(fdt)) : { value: undefined };
  const okConsole = "value" in console ? console.value : undefined;
  const okPsci = "value" in psci ? psci.value : undefined;
  const failed = (message: string): PlatformParseResult => ({ ok: false, message, console: okConsole, psci: okPsci });
  if ("message" in console) return failed(console.message);
  if ("message" in psci) return failed(psci.message);
  const rest = attempt(() => {
    checkArch(fdt, arch);
    const cpus = orderCpus(findCpus(fdt, arch), ctx.bootHwid, arch);
    const memory = findMemory(fdt);
    const gic = arch === "aarch64" ? findGicv3(fdt) : undefined;
    if (arch === "aarch64" && gic === undefined) fault(`no interrupt controller: the device tree has no available "arm,gic-v3" node`);
    const imsics = arch === "riscv64" ? findImsics(fdt) : [];
    const platform: PlatformInfo = {
      arch,
      fdt: ctx.fdt,
      model: fdt.root.string("model"),
      compatible: fdt.root.stringList("compatible") ?? [],
      memory,
      memorySize: memory.reduce((sum, r) => sum + r.size, 0),
      reserved: [ctx.fdt, ...findReserved(fdt)],
      cpus,
      timebaseFrequency: fdt.root.child("cpus")?.u32("timebase-frequency"),
      console: okConsole,
      psci: okPsci,
      gic,
      timer: arch === "aarch64" ? findArchTimer(fdt) : undefined,
      aplics: arch === "riscv64" ? findAplics(fdt, imsics) : [],
      imsics,
      pcie: findPcieHosts(fdt),
    };
    return platform;
  });
  if ("message" in rest) return failed(rest.message);
  return { ok: true, platform: rest.value };
}

/**
 * The architecture the tree's CPUs declare: riscv64 for `riscv`
 * compatibles, aarch64 for `arm,` ones, undefined when it does not say.
 */
export function treeArch(fdt: Fdt): GuestArch | undefined {
  for (const cpu of fdt.root.child("cpus")?.children ?? []) {
    if (cpu.string("device_type") !== "cpu") continue;
    const compatible = cpu.stringList("compatible") ?? [];
    if (compatible.some((c) => c === "riscv" || c.startsWith("riscv,"))) return "riscv64";
    if (compatible.some((c) => c.startsWith("arm,"))) return "aarch64";
  }
  return undefined;
}

function checkArch(fdt: Fdt, arch: GuestArch): void {
  const declared = treeArch(fdt);
  if (declared !== undefined && declared !== arch) {
    fault(`the device tree describes ${declared} CPUs, but this guest booted with the ${arch} boot protocol`);
  }
}

/** Runs `f`, turning a DtFault or FdtError into its message. */
function attempt<T>(f: () => T): { value: T } | { message: string } {
  try {
    return { value: f() };
  } catch (e) {
    if (e instanceof DtFault || e instanceof FdtError) return { message: e.message };
    throw e;
  }
}
