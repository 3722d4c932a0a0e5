/**
 * KVM_DEV_TYPE_ARM_VGIC_ITS: the in-kernel virtual ITS device
 * (Documentation/virt/kvm/devices/arm-vgic-its.rst; arch/arm64/include/uapi/asm/kvm.h).
 * Cross-check: Linux arch/arm64/kvm/vgic/vgic-its.c
 * vgic_its_create, vgic_its_set_attr/get_attr/has_attr, vgic_its_ctrl,
 * vgic_its_has_attr_regs, vgic_its_attr_regs_access, vgic_register_its_iodev.
 *
 * The device wraps a `@irqlab/gic` Its with the "linux-kvm" profile ("linux-kvm-6.6"
 * under the linux-6.6 behaviour, see {@link VitsBehaviour}), which
 * delivers through the VM's {@link VitsLpiTarget} (the Gicv3 of the vgic-v3
 * device, or the host ITS for a forwarded vLPI). Setting its base address
 * maps the 128 KiB frame on the VM's kernel MMIO bus at once, as
 * vgic_register_its_iodev() does. Attribute groups and errnos:
 *
 * - GRP_ADDR (attr KVM_VGIC_ITS_ADDR_TYPE): set → ENODEV other type, EFAULT no
 *   value, EEXIST already set, EINVAL not 64 KiB aligned or wrapping, E2BIG
 *   beyond the IPA space (vgic_check_iorange); get → ENODEV other type, the
 *   base or VGIC_ADDR_UNDEF.
 * - GRP_CTRL: CTRL_INIT (nothing to do), ITS_CTRL_RESET, ITS_SAVE_TABLES,
 *   ITS_RESTORE_TABLES; anything else ENXIO; not readable (ENXIO).
 * - GRP_ITS_REGS (attr = offset, value u64): EINVAL misaligned (4 below
 *   GITS_TYPER and from GITS_PIDR4, else 8), ENXIO base unset or no register;
 *   CREADR write EBUSY while enabled, EINVAL beyond the queue; IIDR write
 *   EINVAL for a revision ≥ the one ABI.
 * Any other group: ENXIO. A vCPU running during the call would be EBUSY
 * (kvm_trylock_all_vcpus); ioctls and vCPU runs never overlap in this model.
 *
 * The first vITS of a VM whose irqchip is the vgic-v3 (VgicV3) hooks into it:
 * it receives the Gicv3 at vgic init (attachVgicV3ForIts) and becomes the
 * vgic's MSI controller (KVM_SIGNAL_MSI, MSI routes, irq bypass forwarding).
 */

import { GITS_CREADR, GITS_CTLR, GITS_CWRITER, GITS_PIDR4, GITS_TRANSLATER, GITS_TYPER, Its } from "@irqlab/gic";
import { ConfigError, RegionOverlapError, type AccessSize, type MmioDevice, type WideValue } from "@irqlab/sim";
import type { DeviceAttr, KvmDeviceOps } from "../../device.js";
import { fail } from "../../errno.js";
import type { Kvm } from "../../kvm.js";
import { KVM_DEV_TYPE_ARM_VGIC_ITS } from "../../uapi/device-types.js";
import type { Vm } from "../../vm.js";
import {
  KVM_DEV_ARM_ITS_CTRL_RESET,
  KVM_DEV_ARM_ITS_RESTORE_TABLES,
  KVM_DEV_ARM_ITS_SAVE_TABLES,
  KVM_DEV_ARM_VGIC_CTRL_INIT,
  KVM_DEV_ARM_VGIC_GRP_ADDR,
  KVM_DEV_ARM_VGIC_GRP_CTRL,
  KVM_DEV_ARM_VGIC_GRP_ITS_REGS,
  KVM_VGIC_ITS_ADDR_TYPE,
  VGIC_ADDR_UNDEF,
} from "../vgic-uapi.js";
import { restoreItsTables, saveItsTables } from "./vits-tables.js";
import { VgicV3 } from "../vgic-v3.js";
import { vgicV4SetForwarding, vgicV4UnsetForwarding } from "./vgic-v4-forwarding.js";
import { vgicItsInjectMsi } from "./vits-msi.js";
import { attachVgicV3ForIts, VITS_BEHAVIOURS, VITS_FRAME_SIZE, vitsContext, type VitsBehaviour, type VitsDeviceLike, type VitsVmContext } from "./vits-vm.js";

/** Number of table ABIs KVM implements (NR_ITS_ABIS): revision 0 only. */
export const NR_ITS_ABIS = 1;

const SZ_64K = 0x10000;
/** Register regions of its_registers[] (vgic-its.c): [offset, length, 64-bit]. */
const ITS_REGIONS: readonly (readonly [number, number, boolean])[] = [
  [GITS_CTLR, 4, false],
  [0x0004, 4, false], // GITS_IIDR (uaccess write selects the ABI)
  [GITS_TYPER, 8, true],
  [0x0080, 8, true], // GITS_CBASER
  [GITS_CWRITER, 8, true],
  [GITS_CREADR, 8, true],
  [0x0100, 0x40, true], // GITS_BASER0..7
  [0xffd0, 0x30, false], // ID registers
];
const GITS_IIDR = 0x0004;
const GITS_CBASER = 0x0080;
const GITS_BASER = 0x0100;

/** The ITS device instance behind a KVM_DEV_TYPE_ARM_VGIC_ITS fd. */
export class VgicItsDevice implements KvmDeviceOps, VitsDeviceLike, MmioDevice {
  /** The wrapped ITS (linux-kvm or linux-kvm-6.6 profile). */
  readonly its: Its;
  readonly #ctx: VitsVmContext;
  #base = -1;
  readonly #wide: WideValue = { hi: 0 };

  /** @param behaviour the kernel's vITS; the VM's first vITS fixes it for the VM (default "linux-6.16"). */
  constructor(
    readonly vm: Vm,
    behaviour: VitsBehaviour = "linux-6.16",
  ) {
    this.#ctx = vitsContext(vm);
    vm.msisRequireDevid = true; // vgic_its_create: dev->kvm->arch.vgic.msis_require_devid = true
    const index = this.#ctx.devices.length;
    if (index === 0) this.#ctx.behaviour = behaviour;
    const profile = this.#ctx.behaviour === "linux-6.6" ? "linux-kvm-6.6" : "linux-kvm";
    this.its = new Its({
      profile,
      target: this.#ctx.target,
      memory: vm.memory,
      tracer: vm.tracer,
      name: `${vm.name}-its${index}`,
      // vgic_its_cmd_handle_movall() walks the VM's LPIs (dist->lpi_xa), those of the other vITSs too.
      onMovall: (rd1, rd2) => {
        for (const d of this.#ctx.devices) if (d !== this) d.its.retargetLpis(rd1, rd2);
      },
    });
    this.#ctx.devices.push(this);
    const vgic = VgicV3.of(vm);
    if (vgic !== undefined && this.#ctx.devices.length === 1) {
      // The vgic-v3 device's hooks: its Gicv3 once initialised, and MSIs / forwarding delegated here.
      vgic.onInit((gic) => {
        attachVgicV3ForIts(vm, gic);
      });
      vgic.setMsiController({
        injectMsi: (m) => vgicItsInjectMsi(vm, m),
        setForwarding: (h, r) => {
          vgicV4SetForwarding(vm, h, r);
        },
        unsetForwarding: (h) => {
          vgicV4UnsetForwarding(vm, h);
        },
      });
    }
  }

  /** The base address (KVM_VGIC_ITS_ADDR_TYPE), or −1 while unset. */
  get baseAddress(): number {
    return this.#base;
  }

  /** Guest doorbell address of this ITS (base + GITS_TRANSLATER), or −1 while unset. */
  get doorbell(): number {
    return this.#base < 0 ? -1 : this.#base + GITS_TRANSLATER;
  }

  // ---- guest MMIO (the kernel bus region) ----

  read(offset: number, size: AccessSize, wide: WideValue): number {
    return this.its.read(offset, size, wide);
  }

  write(offset: number, size: AccessSize, value: number, hi: number): void {
    if (offset >= GITS_TRANSLATER && offset < GITS_TRANSLATER + 4) {
      // KVM registers no GITS_TRANSLATER region: MSIs arrive by KVM_SIGNAL_MSI / irqfd with a DeviceID.
      this.vm.tracer.guestError(this.its.track, "its:translater", "guest write to GITS_TRANSLATER ignored (no DeviceID on this path)");
      return;
    }
    this.its.write(offset, size, value, hi);
    if (offset === GITS_CTLR || (offset & ~7) === GITS_CWRITER || (offset >= GITS_BASER && offset < GITS_BASER + 0x40)) this.notifyTablesChanged();
  }

  /** Lets the GICv4 forwarding re-check its vLPIs after the guest's tables may have changed. */
  notifyTablesChanged(): void {
    this.#ctx.hooks?.tablesChanged();
  }

  // ---- KVM_SET/GET/HAS_DEVICE_ATTR ----

  setAttr(a: DeviceAttr): void {
    const io = "KVM_SET_DEVICE_ATTR";
    switch (a.group) {
      case KVM_DEV_ARM_VGIC_GRP_ADDR:
        this.#setAddr(a, io);
        return;
      case KVM_DEV_ARM_VGIC_GRP_CTRL:
        this.#ctrl(Number(a.attr), io);
        return;
      case KVM_DEV_ARM_VGIC_GRP_ITS_REGS:
        this.#regsAccess(a, io, true);
        return;
      default:
        fail("ENXIO", io, `vgic-its: unknown attribute group ${a.group}`);
    }
  }

  getAttr(a: DeviceAttr): unknown {
    const io = "KVM_GET_DEVICE_ATTR";
    switch (a.group) {
      case KVM_DEV_ARM_VGIC_GRP_ADDR:
        if (Number(a.attr) !== KVM_VGIC_ITS_ADDR_TYPE) fail("ENODEV", io, `vgic-its: address type ${a.attr} is not KVM_VGIC_ITS_ADDR_TYPE`);
        return this.#base < 0 ? VGIC_ADDR_UNDEF : BigInt(this.#base);
      case KVM_DEV_ARM_VGIC_GRP_ITS_REGS:
        return this.#regsAccess(a, io, false);
      default:
        return fail("ENXIO", io, `vgic-its: group ${a.group} cannot be read`);
    }
  }

  hasAttr(a: DeviceAttr): void {
    const io = "KVM_HAS_DEVICE_ATTR";
    const attr = Number(a.attr);
    switch (a.group) {
      case KVM_DEV_ARM_VGIC_GRP_ADDR:
        if (attr === KVM_VGIC_ITS_ADDR_TYPE) return;
        break;
      case KVM_DEV_ARM_VGIC_GRP_CTRL:
        if ([KVM_DEV_ARM_VGIC_CTRL_INIT, KVM_DEV_ARM_ITS_CTRL_RESET, KVM_DEV_ARM_ITS_SAVE_TABLES, KVM_DEV_ARM_ITS_RESTORE_TABLES].includes(attr)) return;
        break;
      case KVM_DEV_ARM_VGIC_GRP_ITS_REGS:
        // vgic_its_has_attr_regs: alignment first (EINVAL), then the register (ENXIO); no base check.
        if ((attr & regAlign(attr)) !== 0) fail("EINVAL", io, `vgic-its: offset 0x${attr.toString(16)} is misaligned`);
        if (region(attr) === undefined) fail("ENXIO", io, `vgic-its: no register at offset 0x${attr.toString(16)}`);
        return;
    }
    fail("ENXIO", io, `vgic-its: unknown attribute ${a.attr} in group ${a.group}`);
  }

  #setAddr(a: DeviceAttr, io: string): void {
    if (Number(a.attr) !== KVM_VGIC_ITS_ADDR_TYPE) fail("ENODEV", io, `vgic-its: address type ${a.attr} is not KVM_VGIC_ITS_ADDR_TYPE`);
    const v = a.value;
    if (typeof v !== "number" && typeof v !== "bigint") return fail("EFAULT", io, "vgic-its: no address given");
    const addr = Number(v);
    // vgic_check_iorange(kvm, base, addr, SZ_64K, KVM_VGIC_V3_ITS_SIZE)
    if (this.#base >= 0) fail("EEXIST", io, `vgic-its: base already set to 0x${this.#base.toString(16)}`);
    if (!Number.isSafeInteger(addr) || addr < 0 || addr % SZ_64K !== 0) fail("EINVAL", io, `vgic-its: base 0x${v.toString(16)} is not 64 KiB aligned`);
    const ipa = this.vm.ipaBits > 0 ? 2 ** this.vm.ipaBits : 2 ** 52;
    if (addr + VITS_FRAME_SIZE > ipa) fail("E2BIG", io, `vgic-its: [0x${addr.toString(16)}, +128 KiB) is beyond the ${this.vm.ipaBits}-bit IPA space`);
    // vgic_register_its_iodev → kvm_io_bus_register_dev, which checks no overlap: a second ITS at
    // the same base is accepted (0), inserted after the first, and never reached — guest MMIO and
    // doorbell lookups (kvm_io_bus_get_first_dev) find the first one registered.
    const there = this.vm.kernelBus.find(addr, VITS_FRAME_SIZE);
    if (there?.base !== addr || there.size !== VITS_FRAME_SIZE || !(there.device instanceof VgicItsDevice)) {
      try {
        this.vm.kernelBus.map(addr, VITS_FRAME_SIZE, this, `${this.vm.name}-its@0x${addr.toString(16)}`);
      } catch (e) {
        // Linux's kvm_io_bus accepts partly overlapping ranges too; the model's bus cannot hold them.
        if (e instanceof RegionOverlapError) fail("EEXIST", io, `vgic-its: ${e.message}`);
        throw e;
      }
    } else if (this.vm.tracer.enabled) {
      this.vm.tracer.instant(this.its.track, "its", "its-base-shadowed", { base: addr });
    }
    this.#base = addr;
    this.#ctx.registered(this);
  }

  #ctrl(attr: number, io: string): void {
    switch (attr) {
      case KVM_DEV_ARM_VGIC_CTRL_INIT:
        return; // "Nothing to do"
      case KVM_DEV_ARM_ITS_CTRL_RESET:
        // vgic_its_reset(): BASER.Valid = 0, CBASER = CREADR = CWRITER = 0, disabled, devices and collections freed.
        this.its.reset();
        this.notifyTablesChanged();
        return;
      case KVM_DEV_ARM_ITS_SAVE_TABLES:
        saveItsTables(this.its, this.vm.memory, io);
        return;
      case KVM_DEV_ARM_ITS_RESTORE_TABLES:
        // vgic_its_restore_cte(): a mapped collection's RDbase must name a vCPU (by id; by index in 6.6).
        // A failed restore frees tables too, so the forwarding re-checks its vLPIs either way.
        try {
          restoreItsTables(this.its, this.vm.memory, (id) => this.#ctx.peOfRdbase(id) >= 0, io);
        } finally {
          this.notifyTablesChanged();
        }
        return;
      default:
        fail("ENXIO", io, `vgic-its: unknown control attribute ${attr}`);
    }
  }

  #regsAccess(a: DeviceAttr, io: string, write: boolean): bigint {
    const offset = Number(a.attr);
    if (!Number.isSafeInteger(offset) || offset < 0 || (offset & regAlign(offset)) !== 0) fail("EINVAL", io, `vgic-its: offset 0x${offset.toString(16)} is misaligned`);
    if (this.#base < 0) fail("ENXIO", io, "vgic-its: the ITS base address is not set");
    const r = region(offset);
    if (r === undefined) fail("ENXIO", io, `vgic-its: no register at offset 0x${offset.toString(16)}`);
    const len = r[2] ? 8 : 4;
    if (!write) {
      const lo = this.its.read(offset, len, this.#wide);
      return BigInt(lo >>> 0) + (len === 8 ? BigInt(this.#wide.hi >>> 0) << 32n : 0n);
    }
    const raw = a.value;
    // Linux reads a u64 through the attr's user pointer (get_user): anything
    // that is not an integer cannot be such a value, so it faults as a bad pointer would.
    if (!(typeof raw === "bigint" || (typeof raw === "number" && Number.isInteger(raw)))) fail("EFAULT", io, `vgic-its: value ${String(raw)} is not a u64`);
    const v = BigInt.asUintN(64, BigInt(raw));
    const lo = Number(v & 0xffff_ffffn);
    const hi = Number(v >> 32n);
    switch (r[0]) {
      case GITS_IIDR: {
        // vgic_mmio_uaccess_write_its_iidr: the revision selects the table ABI.
        const rev = (lo >>> 12) & 0xf;
        if (rev >= NR_ITS_ABIS) fail("EINVAL", io, `vgic-its: GITS_IIDR revision ${rev} ≥ NR_ITS_ABIS (${NR_ITS_ABIS})`);
        return 0n;
      }
      case GITS_CREADR: {
        // vgic_mmio_uaccess_write_its_creadr
        if (this.its.enabled) fail("EBUSY", io, "vgic-its: GITS_CREADR cannot be restored while the ITS is enabled");
        const off = lo & 0x000f_ffe0;
        if (off >= this.its.queue.size) fail("EINVAL", io, `vgic-its: GITS_CREADR offset 0x${off.toString(16)} is beyond the ${this.its.queue.size}-byte queue`);
        this.its.queue.load({ ...this.its.queue.state(), creadr: off });
        return 0n;
      }
      case GITS_TYPER:
      case 0xffd0:
        return 0n; // its_mmio_write_wi
      default:
        this.write(offset, len, lo, hi);
        return 0n;
    }
  }
}

function regAlign(offset: number): number {
  return offset < GITS_TYPER || offset >= GITS_PIDR4 ? 3 : 7;
}

function region(offset: number): readonly [number, number, boolean] | undefined {
  return ITS_REGIONS.find(([o, len]) => offset >= o && offset < o + len);
}

/** Offsets of the registers userspace reaches with GRP_ITS_REGS, for tests and tools. */
export const VITS_UACCESS_REGISTERS = { GITS_CTLR, GITS_IIDR, GITS_TYPER, GITS_CBASER, GITS_CWRITER, GITS_CREADR, GITS_BASER } as const;

/** Options of {@link registerVgicItsDevice}. */
export interface VgicItsRegistration {
  /** Whose vITS the host kernel has (default "linux-6.16", mainline; see {@link VitsBehaviour}). */
  readonly behaviour?: VitsBehaviour;
}

/**
 * Registers KVM_DEV_TYPE_ARM_VGIC_ITS with `kvm` (kvm_vgic_register_its_device).
 * KVM_CREATE_DEVICE then makes a {@link VgicItsDevice}; arm64 hosts only (ENODEV elsewhere).
 * Every arm64 Kvm already does this at construction (KvmOptions.irqchips), with
 * the mainline behaviour; calling it again replaces the registration, e.g. with
 * `{ behaviour: "linux-6.6" }` for VMs created afterwards.
 * @throws ConfigError for an unknown behaviour.
 */
export function registerVgicItsDevice(kvm: Kvm, options: VgicItsRegistration = {}): void {
  const behaviour = options.behaviour ?? "linux-6.16";
  if (!VITS_BEHAVIOURS.includes(behaviour)) throw new ConfigError(`vgic-its: unknown behaviour '${behaviour as string}' (${VITS_BEHAVIOURS.join(", ")})`);
  kvm.registerDeviceType(KVM_DEV_TYPE_ARM_VGIC_ITS, (vm, type, test) => {
    if (type !== KVM_DEV_TYPE_ARM_VGIC_ITS || vm.arch !== "arm64") return fail("ENODEV", "KVM_CREATE_DEVICE", `vgic-its: device type ${type} on ${vm.arch}`);
    if (test) return NO_OPS;
    return new VgicItsDevice(vm, behaviour);
  }, { replace: true });
}

const NO_OPS: KvmDeviceOps = {
  setAttr: () => undefined,
  getAttr: () => undefined,
  hasAttr: () => undefined,
};
