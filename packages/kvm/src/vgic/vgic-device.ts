/**
 * The KVM_DEV_TYPE_ARM_VGIC_V3 device fd: KVM_CREATE_DEVICE's checks
 * (vgic-init.c kvm_vgic_create) and the attribute groups of
 * Documentation/virt/kvm/devices/arm-vgic-v3.rst with the errnos of
 * vgic-kvm-device.c (vgic_v3_set_attr, vgic_v3_get_attr, vgic_v3_has_attr,
 * vgic_v3_attr_regs_access; reference/gic.md §3.1–3.4):
 *
 * - GRP_ADDR: DIST, REDIST, REDIST_REGION ({@link VgicAddresses}).
 * - GRP_NR_IRQS: any attr; the value counts the 32 private INTIDs.
 * - GRP_CTRL: CTRL_INIT; SAVE_PENDING_TABLES (ENXIO before init).
 * - GRP_DIST_REGS / GRP_REDIST_REGS: 32-bit register access by offset
 *   (REDIST with the vCPU's MPIDR in attr[63:32]); GRP_CPU_SYSREGS: ICC_*
 *   state registers (PMR, BPR0/1, CTLR, SRE, IGRPEN0/1, AP0Rn/AP1Rn) by
 *   MPIDR and KVM_REG_ARM_VGIC_SYSREG encoding; GRP_LEVEL_INFO: the input
 *   line levels of 32 INTIDs of level-sensitive interrupts. All EBUSY before
 *   vgic init, EINVAL for an MPIDR that is no vCPU's.
 *
 * Register and line accesses go to the Gicv3 model's userspace accessors
 * (ISPENDR/ICPENDR show and set only the pending latch; IIDR accepts only a
 * revision change to 2 or 3, else EINVAL).
 */

import { ICC_AP0Rn_EL1, ICC_AP1Rn_EL1, ICC_BPR0_EL1, ICC_BPR1_EL1, ICC_CTLR_EL1, ICC_IGRPEN0_EL1, ICC_IGRPEN1_EL1, ICC_PMR_EL1, ICC_SRE_EL1, type Gicv3 } from "@irqlab/gic";
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
  const ready = (io: string): Gicv3 => vgic.gic ?? fail("EBUSY", io, `${vm.name}: the vgic is not initialised`);
  const peOf = (mpidr: number, io: string): number => {
    const pe = vm.vcpus.findIndex((v) => (v.mpidr & 0xffffff) === (mpidr & 0xffffff));
    return pe >= 0 ? pe : fail("EINVAL", io, `${vm.name}: MPIDR 0x${mpidr.toString(16)} is no vCPU's`);
  };
  const regs = (limit: number): ((attr: number | bigint) => boolean) => (attr) => {
    const off = split(attr).low;
    return off < limit && off % 4 === 0;
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
    [KVM_DEV_ARM_VGIC_GRP_DIST_REGS, {
      has: regs(KVM_VGIC_V3_DIST_SIZE),
      get: (attr) => ready("KVM_GET_DEVICE_ATTR").distributor.uaccessRead(split(attr).low, 4, wide) >>> 0,
      set: (attr, value) => {
        const gic = ready("KVM_SET_DEVICE_ATTR");
        uaccess(() => { gic.distributor.uaccessWrite(split(attr).low, 4, u32(value, "KVM_SET_DEVICE_ATTR"), 0); });
      },
    }],
    [KVM_DEV_ARM_VGIC_GRP_REDIST_REGS, {
      has: regs(KVM_VGIC_V3_REDIST_SIZE),
      get: (attr) => {
        const io = "KVM_GET_DEVICE_ATTR";
        const gic = ready(io);
        const { mpidr, low } = split(attr);
        return vgic.redistFrame(gic, peOf(mpidr, io)).uaccessRead(low, wide);
      },
      set: (attr, value) => {
        const io = "KVM_SET_DEVICE_ATTR";
        const gic = ready(io);
        const { mpidr, low } = split(attr);
        const frame = vgic.redistFrame(gic, peOf(mpidr, io));
        uaccess(() => { frame.uaccessWrite(low, u32(value, io)); });
      },
    }],
    [KVM_DEV_ARM_VGIC_GRP_CPU_SYSREGS, {
      has: (attr) => CPU_SYSREGS.has(sysregFromVgicAttr(split(attr).low & 0xffff)),
      get: (attr) => {
        const io = "KVM_GET_DEVICE_ATTR";
        const gic = ready(io);
        const { mpidr, low } = split(attr);
        const lo = gic.readSysReg(peOf(mpidr, io), sysregFromVgicAttr(low & 0xffff), wide) >>> 0;
        return wide.hi === 0 ? lo : (BigInt(wide.hi >>> 0) << 32n) | BigInt(lo);
      },
      set: (attr, value) => {
        const io = "KVM_SET_DEVICE_ATTR";
        const gic = ready(io);
        const { mpidr, low } = split(attr);
        const v = typeof value === "bigint" ? value : BigInt(u32(value, io));
        gic.writeSysReg(peOf(mpidr, io), sysregFromVgicAttr(low & 0xffff), Number(v & 0xffff_ffffn), Number((v >> 32n) & 0xffff_ffffn));
      },
    }],
    [KVM_DEV_ARM_VGIC_GRP_LEVEL_INFO, {
      has: (attr) => split(attr).low >>> KVM_DEV_ARM_VGIC_LINE_LEVEL_INFO_SHIFT === VGIC_LEVEL_INFO_LINE_LEVEL,
      get: (attr) => {
        const io = "KVM_GET_DEVICE_ATTR";
        const { gic, pe, base } = levelInfo(attr, io);
        let bits = 0;
        for (let i = 0; i < 32 && base + i < gic.nrIrqs; i++) if (gic.lineLevel(pe, base + i)) bits |= 1 << i;
        return bits >>> 0;
      },
      set: (attr, value) => {
        const io = "KVM_SET_DEVICE_ATTR";
        const { gic, pe, base } = levelInfo(attr, io);
        const bits = u32(value, io);
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
  const levelInfo = (attr: number | bigint, io: string): { gic: Gicv3; pe: number; base: number } => {
    const gic = ready(io);
    const { mpidr, low } = split(attr);
    const base = low & KVM_DEV_ARM_VGIC_LINE_LEVEL_INTID_MASK;
    if (base % 32 !== 0) fail("EINVAL", io, `LEVEL_INFO vINTID ${base} is not a multiple of 32`);
    return { gic, pe: peOf(mpidr, io), base };
  };
  const table = new AttrGroupTable("vgic-v3", groups);
  return {
    setAttr: (a) => { table.setAttr(a); },
    // GRP_ADDR REDIST_REGION reads take the region index from the value the pointer holds.
    getAttr: (a) => (a.group === KVM_DEV_ARM_VGIC_GRP_ADDR && VgicAddresses.has(Number(a.attr)) ? vgic.addresses.get(Number(a.attr), a.value) : table.getAttr(a)),
    hasAttr: (a) => { table.hasAttr(a); },
  };
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
