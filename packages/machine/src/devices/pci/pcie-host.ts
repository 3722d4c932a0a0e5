/**
 * QEMU's generic PCI Express host bridge, "pci-host-ecam-generic" in the
 * device tree of both `virt` machines: hw/pci-host/gpex.c (gpex_host_realize,
 * gpex_set_irq, the "gpex-root" function at 00.0) with the ECAM window of
 * hw/pci/pcie_host.c (pcie_mmcfg_data_read/write) and the common config
 * access of hw/pci/pci_host.c (pci_host_config_read/write_common).
 *
 * ECAM (PCI Express Base Specification 4.0 §7.2.2): offset = bus << 20 |
 * device << 15 | function << 12 | register. Bus 0 (the root bus, "pcie.0")
 * is the only bus: there are no bridges, so an access to any other bus, to
 * an empty device/function, or beyond a function's configuration space (256
 * bytes for a conventional function) reads all-ones and ignores writes, as
 * QEMU does when pci_find_device() finds nothing. None of these is a guest
 * error. The window has QEMU's default ops: 1, 2 and 4-byte accesses go to
 * the function as they are (any alignment; the memory core splits an
 * unaligned access into aligned pieces) and an 8-byte access is two 4-byte
 * ones.
 *
 * The root function 00.0 is what QEMU shows: vendor 0x1b36 (Red Hat),
 * device 0x0008 (PCIe host bridge), revision 0, class 0x060000 (host
 * bridge), QEMU's default subsystem 0x1af4:0x1100, a conventional PCI
 * function (INTERFACE_CONVENTIONAL_PCI_DEVICE) with no BARs, no capabilities
 * and no interrupt pin.
 *
 * INTx: a function's pin is swizzled by its slot (pci_swizzle_map_irq_fn:
 * (slot + pin) mod 4) onto the four host lines, each the OR of its sources
 * (pci_change_irq_level's irq_count); on arm virt they are SPIs 3..6
 * (VIRT_PCIE), on riscv virt wired interrupts 32..35.
 */

import { ConfigError, type AccessSize, type MmioDevice, type WideValue } from "@irqlab/sim";
import { DeviceLog, type DeviceTraceOptions } from "../device-io.js";
import { qemuAccessRules, qemuInvalidMessage, qemuRead, qemuWrite, type QemuInvalidReason, type QemuRegionOps } from "../qemu-memory.js";
import { PciFunction, type PciBarListener, type PciBusLink } from "./pci-function.js";
import * as R from "./pci-regs.js";

/** PCIE_MMCFG_SIZE_MAX: 256 buses × 1 MiB. */
export const PCIE_MMCFG_SIZE_MAX = 0x1000_0000;
/** GPEX_NUM_IRQS: the INTA..INTD lines of the host bridge. */
export const GPEX_NUM_IRQS = 4;

/** Construction options of a {@link PcieHost}. */
export interface PcieHostOptions extends DeviceTraceOptions {
  /** Where BAR decode changes of every function go (the machine's MMIO bus). */
  readonly barListener?: PciBarListener;
  /** gpex_set_irq(): host INTx line 0..3 changed level. */
  readonly intx?: (line: number, level: boolean) => void;
  /** MachineClass.pci_allow_0_address (true on arm and riscv virt; default true). */
  readonly allowZeroAddress?: boolean;
}

/** Snapshot of the host: every function's configuration space by devfn. */
export interface PcieHostState {
  readonly version: 1;
  readonly functions: Readonly<Record<number, readonly number[]>>;
}

const RULES = qemuAccessRules({});

/** The GPEX host bridge: root bus 0, its functions and the ECAM window. Map it at the ECAM base. */
export class PcieHost implements MmioDevice, QemuRegionOps, PciBusLink {
  readonly rules = RULES;
  readonly busNumber = 0;
  readonly allowZeroAddress: boolean;
  readonly barListener: PciBarListener | undefined;
  /** The "gpex-root" function at 00.0. */
  readonly root: PciFunction;
  readonly #log: DeviceLog;
  readonly #intx: ((line: number, level: boolean) => void) | undefined;
  readonly #functions: (PciFunction | undefined)[] = new Array<PciFunction | undefined>(256).fill(undefined);
  readonly #irqCount = new Int32Array(GPEX_NUM_IRQS);

  constructor(options: PcieHostOptions = {}) {
    this.#log = new DeviceLog(options, "pcie-host");
    this.barListener = options.barListener;
    this.#intx = options.intx;
    this.allowZeroAddress = options.allowZeroAddress ?? true;
    this.root = new PciFunction({
      vendorId: R.PCI_VENDOR_ID_REDHAT,
      deviceId: R.PCI_DEVICE_ID_REDHAT_PCIE_HOST,
      revision: 0,
      classCode: R.PCI_CLASS_BRIDGE_HOST,
      name: "gpex-root",
      ...(options.tracer !== undefined ? { tracer: options.tracer } : {}),
    });
    this.plug(this.root, 0, 0);
  }

  /**
   * Plugs `fn` at slot.func of bus 0 (QEMU -device ...,addr=slot.func), with
   * pci_init_multifunction's rules. Returns the devfn.
   * @throws ConfigError if the place is taken or the multifunction rules forbid it.
   */
  plug(fn: PciFunction, slot: number, func = 0): number {
    if (!Number.isInteger(slot) || slot < 0 || slot > 31 || !Number.isInteger(func) || func < 0 || func > 7) {
      throw new ConfigError(`PCI: address ${slot}.${func} is not a valid slot.function`);
    }
    const devfn = R.pciDevfn(slot, func);
    const taken = this.#functions[devfn];
    if (taken !== undefined) throw new ConfigError(`PCI: slot ${slot} function ${func} not available for ${fn.name}, in use by ${taken.name}`);
    const mf = (fn.config[R.PCI_HEADER_TYPE]! & R.PCI_HEADER_TYPE_MFD) !== 0;
    if (func !== 0) {
      const f0 = this.#functions[R.pciDevfn(slot, 0)];
      if (f0 !== undefined && (f0.config[R.PCI_HEADER_TYPE]! & R.PCI_HEADER_TYPE_MFD) === 0) {
        throw new ConfigError(`PCI: single function device can't be populated in function ${slot.toString(16)}.${func.toString(16)}`);
      }
    } else if (!mf) {
      for (let f = 1; f < 8; f++) {
        if (this.#functions[R.pciDevfn(slot, f)] !== undefined) {
          throw new ConfigError(`PCI: ${slot.toString(16)}.0 indicates single function, but ${slot.toString(16)}.${f} is already populated.`);
        }
      }
    }
    fn.plugged(this, devfn);
    this.#functions[devfn] = fn;
    return devfn;
  }

  /** The function at `devfn` on bus 0. */
  functionAt(devfn: number): PciFunction | undefined {
    return this.#functions[devfn];
  }

  /** The plugged functions in devfn order. */
  functions(): PciFunction[] {
    return this.#functions.filter((f): f is PciFunction => f !== undefined);
  }

  read(offset: number, size: AccessSize, wide: WideValue): number {
    return qemuRead(this, offset, size, wide);
  }

  write(offset: number, size: AccessSize, value: number, hi: number): void {
    qemuWrite(this, offset, size, value, hi);
  }

  /** pcie_mmcfg_data_read(). */
  opsRead(offset: number, size: number): number {
    const fn = this.#find(offset);
    if (fn === undefined) return 0xffffffff;
    const addr = offset & 0xfff;
    const limit = fn.configSize;
    if (addr >= limit) return 0xffffffff;
    return fn.configRead(addr, Math.min(size, limit - addr));
  }

  /** pcie_mmcfg_data_write(). */
  opsWrite(offset: number, size: number, value: number): void {
    const fn = this.#find(offset);
    if (fn === undefined) return;
    const addr = offset & 0xfff;
    const limit = fn.configSize;
    if (addr >= limit) return;
    fn.configWrite(addr, value, Math.min(size, limit - addr));
  }

  opsInvalid(offset: number, size: number, write: boolean, reason: QemuInvalidReason): void {
    // Unreachable with the default ops; kept for the interface.
    this.#log.guestError("ecam", qemuInvalidMessage("pcie-mmcfg", offset, size, write, reason, RULES));
  }

  /** pci_change_irq_level() on the root bus: swizzle, count, drive the host line. */
  intxChange(fn: PciFunction, pin: number, change: number): void {
    const line = ((fn.devfn >>> 3) + pin) & 3;
    const count = this.#irqCount[line]! + change;
    this.#irqCount[line] = count;
    this.#intx?.(line, count !== 0);
  }

  /**
   * System reset of the bus: every function's own reset, then the PCI core's
   * pci_do_device_reset of every function (pcibus_reset_hold), in devfn order.
   */
  reset(): void {
    for (const fn of this.#functions) fn?.deviceReset();
    for (const fn of this.#functions) fn?.busReset();
  }

  /** Plain copy of every function's configuration space. */
  state(): PcieHostState {
    const functions: Record<number, readonly number[]> = {};
    this.#functions.forEach((fn, devfn) => {
      if (fn !== undefined) functions[devfn] = [...fn.config];
    });
    return { version: 1, functions };
  }

  #find(offset: number): PciFunction | undefined {
    return R.ecamBus(offset) === 0 ? this.#functions[R.ecamDevfn(offset)] : undefined;
  }
}
