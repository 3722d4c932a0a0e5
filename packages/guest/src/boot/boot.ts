/**
 * boot(): the boot layer every image starts with. From the boot registers it
 * finds the device tree in RAM, reads and parses it, collects the
 * PlatformInfo and opens the console — or panics with a clear message.
 *
 * Boot protocols: arm64 (Documentation/arch/arm64/booting.rst §4) enters the
 * kernel with x0 = the blob's physical address and x1 = x2 = x3 = 0;
 * riscv64 (Documentation/arch/riscv/boot.rst) with a0 = the hart id and
 * a1 = the blob's address. A JavaScript image has no instruction set of its
 * own, so one image serves both: the registers tell which protocol the VMM
 * used (a non-zero second register is riscv64's a1; arm64 reserves x1 as 0),
 * and parsing then checks that the tree's CPUs agree. BootOptions.arch pins
 * the protocol instead.
 *
 * The boot CPU: arm64 reads MPIDR_EL1 and keeps its affinity fields
 * (MPIDR_HWID_BITMASK) as Linux's smp_setup_processor_id() does; riscv64
 * takes the hart id from a0.
 */

import type { Fdt } from "@irqlab/fdt";
import { op } from "@irqlab/sim";
import { openConsole, type Console } from "../console/console.js";
import { MPIDR_EL1 } from "../cpu.js";
import type { GuestArch, GuestCode } from "../guest-image.js";
import { loadFdt } from "./fdt-load.js";
import { panic, type PanicTarget } from "./panic.js";
import { parsePlatformInfo } from "./platform-parse.js";
import type { CpuInfo, PlatformInfo, PsciInfo } from "./platform-info.js";

/** Options of {@link boot}. */
export interface BootOptions {
  /** Use this architecture's boot protocol instead of telling it from the registers. */
  readonly arch?: GuestArch;
}

/** What a successful boot hands to the image: everything it needs to run and to panic. */
export interface BootedGuest extends PanicTarget {
  readonly arch: GuestArch;
  /** The parsed device tree, for drivers that want more than PlatformInfo holds. */
  readonly fdt: Fdt;
  readonly platform: PlatformInfo;
  /** The console: the stdout-path UART, or the SBI console on riscv64 without one. */
  readonly console: Console;
  readonly psci: PsciInfo | undefined;
  /** The CPU running the boot program (platform.cpus[0]). */
  readonly bootCpu: CpuInfo;
}

/** The boot protocol the registers show: the architecture, the blob's address and (riscv64) the hart id. */
export interface BootProtocol {
  readonly arch: GuestArch;
  readonly fdtAddress: number;
  /** a0 on riscv64; undefined on arm64 (the boot CPU reads MPIDR_EL1). */
  readonly hartId: number | undefined;
}

/** Tells the boot protocol from the registers (see the module comment); undefined without registers. */
export function bootProtocol(bootRegs: readonly number[], arch?: GuestArch): BootProtocol | undefined {
  const r0 = bootRegs[0];
  const r1 = bootRegs[1];
  if (r0 === undefined) return undefined;
  const riscv = arch === "riscv64" || (arch === undefined && r1 !== undefined && r1 !== 0);
  if (riscv) return r1 === undefined ? undefined : { arch: "riscv64", fdtAddress: r1, hartId: r0 };
  return { arch: "aarch64", fdtAddress: r0, hartId: undefined };
}

/**
 * `const sys = yield* boot(bootRegs)`: boots from the device tree. Never
 * returns on failure: it panics (prints, powers off, halts).
 */
export function* boot(bootRegs: readonly number[], options: BootOptions = {}): GuestCode<BootedGuest> {
  const proto = bootProtocol(bootRegs, options.arch);
  if (proto === undefined) {
    return yield* panic({ arch: options.arch, console: undefined, psci: undefined }, "no boot registers: cannot find the device tree");
  }
  const { arch } = proto;
  const loaded = yield* loadFdt(proto.fdtAddress);
  if (!loaded.ok) return yield* panic({ arch, console: undefined, psci: undefined }, loaded.message);
  let bootHwid: number;
  if (proto.hartId !== undefined) bootHwid = proto.hartId;
  else {
    const mpidr = yield op.mrs(MPIDR_EL1);
    bootHwid = (mpidr.value & 0xff_ffff) + (mpidr.hi & 0xff) * 2 ** 32; // & MPIDR_HWID_BITMASK
  }
  const parsed = parsePlatformInfo(loaded.fdt, arch, { fdt: { base: loaded.address, size: loaded.size }, bootHwid });
  if (!parsed.ok) return yield* panic({ arch, console: parsed.console, psci: parsed.psci }, parsed.message);
  const platform = parsed.platform;
  const console = yield* openConsole(arch, platform.console);
  if (console === undefined) return yield* panic({ arch, console, psci: platform.psci }, "no console");
  return { arch, fdt: loaded.fdt, platform, console, psci: platform.psci, bootCpu: platform.cpus[0]! };
}
