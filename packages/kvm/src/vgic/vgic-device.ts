/**
 * The KVM_DEV_TYPE_ARM_VGIC_V3 device fd: KVM_CREATE_DEVICE's checks
 * (vgic-init.c kvm_vgic_create) and the attribute groups of
 * Documentation/virt/kvm/devices/arm-vgic-v3.rst with the errnos of
 * vgic-kvm-device.c (vgic_v3_set_attr, vgic_v3_get_attr, vgic_v3_has_attr,
 * vgic_v3_attr_regs_access):
 *
 * - GRP_ADDR: DIST, REDIST, REDIST_REGION ({@link VgicAddresses}).
 * - GRP_NR_IRQS: any attr; the value counts the 32 private INTIDs.
 * - GRP_CTRL: CTRL_INIT; SAVE_PENDING_TABLES (ENXIO before init).
 * - GRP_DIST_REGS / GRP_REDIST_REGS: 32-bit register access by offset
 *   (REDIST with the vCPU's MPIDR in attr[63:32]); GRP_CPU_SYSREGS: ICC_*
 *   state registers (PMR, BPR0/1, CTLR, SRE, IGRPEN0/1, AP0Rn/AP1Rn) by
 *   MPIDR and KVM_REG_ARM_VGIC_SYSREG encoding; GRP_LEVEL_INFO: the input
 *   line levels of 32 INTIDs of level-sensitive interrupts. In
 *   vgic_v3_attr_regs_access's order: EINVAL for an MPIDR that is no vCPU's
 *   (GRP_DIST_REGS: without vCPU 0), then EBUSY before vgic init except for
 *   GICD_IIDR and GICD_TYPER2 (reg_allowed_pre_init).
 *
 * Register and line accesses go to the Gicv3 model's userspace accessors
 * (ISPENDR shows and sets only the pending latch, ICPENDR reads as zero and
 * ignores writes; IIDR accepts only a revision change to 2 or 3, else EINVAL;
 * GICD_TYPER2 accepts only nASSGIcap, frozen once initialised).
 */

import {
  GICD_ICPENDR,
  GICD_IIDR,
  GICD_ISACTIVER,
  GICD_TYPER2,
  GICD_TYPER2_nASSGIcap,
  ICC_AP0Rn_EL1,
  ICC_AP1Rn_EL1,
  ICC_BPR0_EL1,
  ICC_BPR1_EL1,
  ICC_CTLR_EL1,
  ICC_IGRPEN0_EL1,
  ICC_IGRPEN1_EL1,
  ICC_PMR_EL1,
  ICC_SRE_EL1,
  IMPLEMENTER_ARM,
  PRODUCT_ID_KVM,
  type Gicv3,
} from "@irqlab/gic";
import { ConfigError, type WideValue } from "@irqlab/sim";
import { AttrGroupTable, type AttrGroup, type KvmDeviceFactory, type KvmDeviceOps } from "../device.js";
import { fail } from "../errno.js";
import type { Kvm } from "../kvm.js";
import { KVM_DEV_TYPE_ARM_VGIC_V3 } from "../uapi/device-types.js";
import type { Vm } from "../vm.js";
import { VgicAddresses } from "./vgic-addr.js";
import {
  KVM_DEV_ARM_VGIC_CTRL_INIT,
  KVM_DEV_ARM_VGIC_GRP_ADDR,
  KVM_DEV_ARM_VGIC_GRP_CPU_SYSREGS,
  KVM_DEV_ARM_VGIC_GRP_CTRL,
  KVM_DEV_ARM_VGIC_GRP_DIST_REGS,
  KVM_DEV_ARM_VGIC_GRP_LEVEL_INFO,
  KVM_DEV_ARM_VGIC_GRP_NR_IRQS,
  KVM_DEV_ARM_VGIC_GRP_REDIST_REGS,
  KVM_DEV_ARM_VGIC_LINE_LEVEL_INFO_SHIFT,
  KVM_DEV_ARM_VGIC_LINE_LEVEL_INTID_MASK,
  KVM_DEV_ARM_VGIC_SAVE_PENDING_TABLES,
  KVM_VGIC_V3_DIST_SIZE,
  KVM_VGIC_V3_REDIST_SIZE,
  VGIC_LEVEL_INFO_LINE_LEVEL,
  VGIC_NR_PRIVATE_IRQS,
  VGIC_V3_MAX_CPUS,
  sysregFromVgicAttr,
} from "./vgic-uapi.js";
import { VgicV3, type VgicInitMode } from "./vgic-v3.js";

/** Options of {@link registerVgicV3}. */
export interface VgicV3Options {
  /** Init behaviour for every VM, or chosen per VM (default "explicit"). */
  readonly initMode?: VgicInitMode | ((vm: Vm) => VgicInitMode);
}

/** The ICC_* registers GRP_CPU_SYSREGS gives access to (no side effects on read). */
const CPU_SYSREGS = new Set<number>([
  ICC_PMR_EL1, ICC_BPR0_EL1, ICC_BPR1_EL1, ICC_CTLR_EL1, ICC_SRE_EL1, ICC_IGRPEN0_EL1, ICC_IGRPEN1_EL1,
  ...[0, 1, 2, 3].map((n) => ICC_AP0Rn_EL1(n)), ...[0, 1, 2, 3].map((n) => ICC_AP1Rn_EL1(n)),
]);

/**
 * Registers KVM_DEV_TYPE_ARM_VGIC_V3 on `kvm` (after which KVM_CAP_IRQCHIP
 * answers 1 and KVM_CREATE_DEVICE of the type works). Every arm64 Kvm does
 * this at construction (KvmOptions.irqchips, KvmOptions.vgicInitMode), as
 * Linux's kvm_register_vgic_device does at init; calling it again replaces
 * that registration (another init mode for the devices created from then on),
 * and on a Kvm built with `irqchips: false` it adds the type.
 */
export function registerVgicV3(kvm: Kvm, options: VgicV3Options = {}): void {
  if (kvm.arch !== "arm64") throw new ConfigError("the vgic-v3 is an arm64 device");
  const mode = options.initMode ?? "explicit";
  kvm.registerDeviceType(KVM_DEV_TYPE_ARM_VGIC_V3, vgicV3Factory(mode), { replace: true });
}

function vgicV3Factory(mode: VgicInitMode | ((vm: Vm) => VgicInitMode)): KvmDeviceFactory {
  return (vm, _type, test) => {
    if (test) return new AttrGroupTable("vgic-v3", new Map());
    const io = "KVM_CREATE_DEVICE";
    if (vm.irqchip !== undefined) fail("EEXIST", io, `${vm.name}: an in-kernel irqchip (${vm.irqchip.name}) already exists`);
    if (vm.hasRun) fail("EBUSY", io, `${vm.name}: a vCPU has already run`);
    if (vm.vcpus.length > VGIC_V3_MAX_CPUS) fail("E2BIG", io, `${vm.name}: ${vm.vcpus.length} vCPUs exceed VGIC_V3_MAX_CPUS`);
    const vgic = new VgicV3(vm, typeof mode === "function" ? mode(vm) : mode);
    vm.installIrqChip(vgic);
    return vgicV3DeviceOps(vgic);
  };
}

function split(attr: number | bigint): { mpidr: number; low: number } {
  const a = BigInt(attr);
  return { mpidr: Number((a >> 32n) & 0xffff_ffffn), low: Number(a & 0xffff_ffffn) };
}

function u32(v: unknown, io: string): number {
  if (typeof v === "number" && Number.isInteger(v) && v >= -0x8000_0000 && v <= 0xffff_ffff) return v >>> 0;
  return fail("EFAULT", io, `value ${String(v)} is not a u32`);
}

/** The attribute groups of one vgic-v3 device. */
export function vgicV3DeviceOps(vgic: VgicV3): KvmDeviceOps {
  const vm = vgic.vm;
  const wide: WideValue = { hi: 0 };
  // vgic_v3_attr_regs_access: after vgic_v3_parse_attr found the vCPU, EBUSY
  // while the vgic is not initialised, except for what reg_allowed_pre_init()
  // lets through (GICD_IIDR and GICD_TYPER2).
  const ready = (io: string): Gicv3 => vgic.gic ?? fail("EBUSY", io, `${vm.name}: the vgic is not initialised`);
  // vgic_v3_parse_attr: the vCPU whose MPIDR is in attr[63:32] (kvm_mpidr_to_vcpu), EINVAL if none.
  const peOf = (mpidr: number, io: string): number => {
    const pe = vm.vcpus.findIndex((v) => (v.mpidr & 0xffffff) === (mpidr & 0xffffff));
    return pe >= 0 ? pe : fail("EINVAL", io, `${vm.name}: MPIDR 0x${mpidr.toString(16)} is no vCPU's`);
  };
  // vgic_v3_parse_attr: GRP_DIST_REGS accesses go through vCPU 0 (kvm_get_vcpu(kvm, 0)), EINVAL without it.
  const vcpu0 = (io: string): void => {
    if (vm.vcpus.length === 0) fail("EINVAL", io, `${vm.name}: distributor registers are accessed through vCPU 0, which does not exist`);
  };
  const regs = (limit: number): ((attr: number | bigint) => boolean) => (attr) => {
    const off = split(attr).low;
    return off < limit && off % 4 === 0;
  };
  const distGet = (attr: number | bigint): number => {
    const io = "KVM_GET_DEVICE_ATTR";
    vcpu0(io);
    const off = split(attr).low;
    if (off === GICD_TYPER2) return vgic.nassgicap ? GICD_TYPER2_nASSGIcap : 0;
    if (off === GICD_IIDR && !vgic.initialized) return ((PRODUCT_ID_KVM << 24) | (vgic.implementationRev << 12) | IMPLEMENTER_ARM) >>> 0;
    const gic = ready(io);
    // vgic_v3_dist_registers: GICD_ICPENDR's uaccess_read is vgic_mmio_read_raz.
    if (off >= GICD_ICPENDR && off < GICD_ISACTIVER) return 0;
    return gic.distributor.uaccessRead(off, 4, wide) >>> 0;
  };
  const distSet = (attr: number | bigint, value: unknown): void => {
    const io = "KVM_SET_DEVICE_ATTR";
    const v = u32(value, io);
    vcpu0(io);
    const off = split(attr).low;
    if (off === GICD_TYPER2) {
      writeTyper2(vgic, v, io);
      return;
    }
    if (off === GICD_IIDR && !vgic.initialized) {
      // vgic_mmio_uaccess_write_v3_misc: only Revision may differ, and only to 2 or 3.
      const rev = (v >>> 12) & 0xf;
      const cur = ((PRODUCT_ID_KVM << 24) | (vgic.implementationRev << 12) | IMPLEMENTER_ARM) >>> 0;
      if (((v ^ cur) & ~0xf000) !== 0 || rev < 2 || rev > 3) fail("EINVAL", io, `GICD_IIDR value 0x${v.toString(16)} may only change Revision to 2 or 3`);
      vgic.setImplementationRev(rev);
      return;
    }
    const gic = ready(io);
    uaccess(() => { gic.distributor.uaccessWrite(off, 4, v, 0); });
  };
  const groups = new Map<number, AttrGroup>([
    [KVM_DEV_ARM_VGIC_GRP_ADDR, {
      has: (attr) => VgicAddresses.has(Number(attr)),
      set: (attr, value) => { vgic.addresses.set(Number(attr), value, vm.vcpus.length); },
    }],
    [KVM_DEV_ARM_VGIC_GRP_NR_IRQS, {
      has: () => true,
      set: (_attr, value) => { vgic.setNrIrqs(u32(value, "KVM_SET_DEVICE_ATTR")); },
      get: () => Math.max(vgic.nrIrqs, VGIC_NR_PRIVATE_IRQS),
    }],
    [KVM_DEV_ARM_VGIC_GRP_CTRL, {
      has: (attr) => Number(attr) === KVM_DEV_ARM_VGIC_CTRL_INIT || Number(attr) === KVM_DEV_ARM_VGIC_SAVE_PENDING_TABLES,
      set: (attr) => {
        if (Number(attr) === KVM_DEV_ARM_VGIC_CTRL_INIT) {
          vgic.init();
          return;
        }
        const gic = vgic.gic ?? fail("ENXIO", "KVM_SET_DEVICE_ATTR", `${vm.name}: SAVE_PENDING_TABLES before vgic init`);
        gic.savePendingTables();
      },
    }],
    [KVM_DEV_ARM_VGIC_GRP_DIST_REGS, { has: regs(KVM_VGIC_V3_DIST_SIZE), get: distGet, set: distSet }],
    [KVM_DEV_ARM_VGIC_GRP_REDIST_REGS, {
      has: regs(KVM_VGIC_V3_REDIST_SIZE),
      get: (attr) => {
        const io = "KVM_GET_DEVICE_ATTR";
        const { mpidr, low } = split(attr);
        const pe = peOf(mpidr, io);
        return vgic.redistFrame(ready(io), pe).uaccessRead(low, wide);
      },
      set: (attr, value) => {
        const io = "KVM_SET_DEVICE_ATTR";
        const v = u32(value, io);
        const { mpidr, low } = split(attr);
        const pe = peOf(mpidr, io);
        const frame = vgic.redistFrame(ready(io), pe);
        uaccess(() => { frame.uaccessWrite(low, v); });
      },
    }],
    [KVM_DEV_ARM_VGIC_GRP_CPU_SYSREGS, {
      has: (attr) => CPU_SYSREGS.has(sysregFromVgicAttr(split(attr).low & 0xffff)),
      get: (attr) => {
        const io = "KVM_GET_DEVICE_ATTR";
        const { mpidr, low } = split(attr);
        const pe = peOf(mpidr, io);
        const lo = ready(io).readSysReg(pe, sysregFromVgicAttr(low & 0xffff), wide) >>> 0;
        return wide.hi === 0 ? lo : (BigInt(wide.hi >>> 0) << 32n) | BigInt(lo);
      },
      set: (attr, value) => {
        const io = "KVM_SET_DEVICE_ATTR";
        const { mpidr, low } = split(attr);
        const v = typeof value === "bigint" ? value : BigInt(u32(value, io));
        const pe = peOf(mpidr, io);
        ready(io).writeSysReg(pe, sysregFromVgicAttr(low & 0xffff), Number(v & 0xffff_ffffn), Number((v >> 32n) & 0xffff_ffffn));
      },
    }],
    [KVM_DEV_ARM_VGIC_GRP_LEVEL_INFO, {
      // Get and set check the info field themselves (EINVAL); KVM_HAS_DEVICE_ATTR answers ENXIO for it below.
      has: () => true,
      get: (attr) => {
        const io = "KVM_GET_DEVICE_ATTR";
        const { gic, pe, base } = levelInfo(attr, io);
        let bits = 0;
        for (let i = 0; i < 32 && base + i < gic.nrIrqs; i++) if (gic.lineLevel(pe, base + i)) bits |= 1 << i;
        return bits >>> 0;
      },
      set: (attr, value) => {
        const io = "KVM_SET_DEVICE_ATTR";
        const bits = u32(value, io);
        const { gic, pe, base } = levelInfo(attr, io);
        // vgic_write_irq_line_level_info: SGIs and edge-triggered interrupts are left alone.
        for (let i = 0; i < 32 && base + i < gic.nrIrqs && base + i <= 1019; i++) {
          const intid = base + i;
          if (intid < 16 || gic.irqs.status(pe, intid).edge) continue;
          const level = ((bits >>> i) & 1) === 1;
          if (intid < VGIC_NR_PRIVATE_IRQS) gic.setPpiLevel(pe, intid, level);
          else gic.setSpiLevel(intid, level);
        }
      },
    }],
  ]);
  // vgic_v3_attr_regs_access(GRP_LEVEL_INFO), in its order: the vCPU (EINVAL),
  // the initialisation (EBUSY), the info field (EINVAL: an attr whose vINTID
  // spills above 1023 into it), then vgic_v3_line_level_info_uaccess's
  // alignment (EINVAL).
  const levelInfo = (attr: number | bigint, io: string): { gic: Gicv3; pe: number; base: number } => {
    const { mpidr, low } = split(attr);
    const pe = peOf(mpidr, io);
    const gic = ready(io);
    if (levelInfoType(low) !== VGIC_LEVEL_INFO_LINE_LEVEL) fail("EINVAL", io, `LEVEL_INFO info ${levelInfoType(low)} is not VGIC_LEVEL_INFO_LINE_LEVEL (vINTID above 1023?)`);
    const base = low & KVM_DEV_ARM_VGIC_LINE_LEVEL_INTID_MASK;
    if (base % 32 !== 0) fail("EINVAL", io, `LEVEL_INFO vINTID ${base} is not a multiple of 32`);
    return { gic, pe, base };
  };
  const table = new AttrGroupTable("vgic-v3", groups);
  return {
    setAttr: (a) => { table.setAttr(a); },
    // GRP_ADDR REDIST_REGION reads take the region index from the value the pointer holds.
    getAttr: (a) => (a.group === KVM_DEV_ARM_VGIC_GRP_ADDR && VgicAddresses.has(Number(a.attr)) ? vgic.addresses.get(Number(a.attr), a.value) : table.getAttr(a)),
    hasAttr: (a) => {
      // vgic_v3_has_attr → vgic_v3_has_attr_regs: vgic_v3_parse_attr runs first (EINVAL without the vCPU).
      const io = "KVM_HAS_DEVICE_ATTR";
      if (a.group === KVM_DEV_ARM_VGIC_GRP_DIST_REGS) vcpu0(io);
      else if (a.group === KVM_DEV_ARM_VGIC_GRP_REDIST_REGS || a.group === KVM_DEV_ARM_VGIC_GRP_CPU_SYSREGS) peOf(split(a.attr).mpidr, io);
      else if (a.group === KVM_DEV_ARM_VGIC_GRP_LEVEL_INFO && levelInfoType(split(a.attr).low) !== VGIC_LEVEL_INFO_LINE_LEVEL) {
        fail("ENXIO", io, `${vm.name}: LEVEL_INFO info ${levelInfoType(split(a.attr).low)} is not VGIC_LEVEL_INFO_LINE_LEVEL`);
      }
      table.hasAttr(a);
    },
  };
}

/** KVM_DEV_ARM_VGIC_LINE_LEVEL_INFO_MASK (0xfc00) field of a GRP_LEVEL_INFO attr. */
function levelInfoType(low: number): number {
  return (low & 0xfc00) >>> KVM_DEV_ARM_VGIC_LINE_LEVEL_INFO_SHIFT;
}

/**
 * A userspace write of GICD_TYPER2 (vgic_mmio_uaccess_write_v3_misc), allowed
 * before init (reg_allowed_pre_init): the value read back is accepted as is;
 * a change is EBUSY once the vgic is initialised (vgic_init has read
 * nassgicap), EINVAL outside nASSGIcap, and EINVAL when setting nASSGIcap on
 * a host without direct SGIs (system_supports_direct_sgis).
 */
function writeTyper2(vgic: VgicV3, v: number, io: string): void {
  const cur = vgic.nassgicap ? GICD_TYPER2_nASSGIcap : 0;
  if (v === cur) return;
  if (vgic.initialized) fail("EBUSY", io, "GICD_TYPER2 cannot change once the vgic is initialised");
  if ((v & ~GICD_TYPER2_nASSGIcap) !== 0) fail("EINVAL", io, `GICD_TYPER2 0x${v.toString(16)}: only nASSGIcap is writable`);
  if (v !== 0 && !vgic.supportsDirectSgis) fail("EINVAL", io, "GICD_TYPER2.nASSGIcap needs GICv4.1 direct SGIs, which this host does not offer");
  vgic.setNassgicap(v !== 0);
}

/** Runs a Gicv3 userspace write; its ConfigError (a value KVM refuses) becomes EINVAL. */
function uaccess(fn: () => void): void {
  try {
    fn();
  } catch (e) {
    if (e instanceof ConfigError) fail("EINVAL", "KVM_SET_DEVICE_ATTR", e.message);
    throw e;
  }
}
