/**
 * vgic-v3 device errno tables: KVM_CREATE_DEVICE, ordering against
 * CTRL_INIT / KVM_CREATE_VCPU / KVM_RUN / KVM_IRQ_LINE / KVM_IRQFD, GRP_ADDR,
 * GRP_NR_IRQS, the register groups, and the first-run address checks
 * (Linux vgic-init.c, vgic-kvm-device.c,
 * vgic-mmio-v3.c, arm.c; selftest arm64/vgic_init.c).
 */
import { GICD_ICPENDR, GICD_IIDR, GICD_ISPENDR, GICR_ICPENDR0, GICR_ISPENDR0, GICR_SGI_BASE, GICR_TYPER, GICR_TYPER_LAST, GICR_TYPER_PLPIS, ICC_PMR_EL1 } from "@irqlab/gic";
import { MMIO_UNHANDLED } from "@irqlab/sim";
import { describe, expect, test } from "vitest";
import { EventFd } from "../irqfd/eventfd.js";
import { Kvm } from "../kvm.js";
import { KVM_CAP_IRQCHIP } from "../uapi/capabilities.js";
import { KVM_ARM_TARGET_GENERIC_V8, KVM_CREATE_DEVICE_TEST, KVM_DEV_TYPE_ARM_VGIC_ITS, KVM_DEV_TYPE_ARM_VGIC_V3 } from "../uapi/device-types.js";
import { armVm, DIST_BASE, REDIST_BASE } from "./test-fixture.js";
import { registerVgicV3 } from "./vgic-device.js";
import { VgicV3 } from "./vgic-v3.js";
import {
  KVM_DEV_ARM_VGIC_CTRL_INIT,
  KVM_DEV_ARM_VGIC_GRP_ADDR,
  KVM_DEV_ARM_VGIC_GRP_CPU_SYSREGS,
  KVM_DEV_ARM_VGIC_GRP_CTRL,
  KVM_DEV_ARM_VGIC_GRP_DIST_REGS,
  KVM_DEV_ARM_VGIC_GRP_LEVEL_INFO,
  KVM_DEV_ARM_VGIC_GRP_NR_IRQS,
  KVM_DEV_ARM_VGIC_GRP_REDIST_REGS,
  KVM_VGIC_ITS_ADDR_TYPE,
  KVM_VGIC_V3_ADDR_TYPE_DIST,
  KVM_VGIC_V3_ADDR_TYPE_REDIST,
  KVM_VGIC_V3_ADDR_TYPE_REDIST_REGION,
  VGIC_ADDR_UNDEF,
  redistRegionAttr,
  vgicRegAttr,
  vgicSysregAttr,
} from "./vgic-uapi.js";

const ADDR = KVM_DEV_ARM_VGIC_GRP_ADDR;
const CTRL = KVM_DEV_ARM_VGIC_GRP_CTRL;
const spi = (id: number): number => (1 << 24) | id;
const ppi = (vcpu: number, id: number): number => (2 << 24) | (vcpu << 16) | id;

describe("KVM_CREATE_DEVICE(KVM_DEV_TYPE_ARM_VGIC_V3) (vgic-init.c kvm_vgic_create)", () => {
  test("every arm64 Kvm has the vgic-v3 and the ITS, as kvm_register_vgic_device registers them at init", () => {
    // arch/arm64/kvm/vgic/vgic-kvm-device.c kvm_register_vgic_device(KVM_DEV_TYPE_ARM_VGIC_V3):
    // kvm_register_device_ops(vgic-v3), then kvm_vgic_register_its_device().
    const kvm = new Kvm({ arch: "arm64" });
    expect(kvm.checkExtension(KVM_CAP_IRQCHIP)).toBe(1);
    const vm = kvm.createVm();
    expect(vm.createDevice(KVM_DEV_TYPE_ARM_VGIC_V3, KVM_CREATE_DEVICE_TEST)).toBeUndefined();
    vm.createDevice(KVM_DEV_TYPE_ARM_VGIC_V3);
    vm.createDevice(KVM_DEV_TYPE_ARM_VGIC_ITS);
    expect(VgicV3.of(vm)!.initMode).toBe("explicit");
    // The init mode is a Kvm option; registerVgicV3 replaces the default registration.
    const lazyVm = new Kvm({ vgicInitMode: "lazy-init" }).createVm();
    lazyVm.createDevice(KVM_DEV_TYPE_ARM_VGIC_V3);
    expect(VgicV3.of(lazyVm)!.initMode).toBe("lazy-init");
    registerVgicV3(kvm, { initMode: "lazy-init" });
    const vm2 = kvm.createVm();
    vm2.createDevice(KVM_DEV_TYPE_ARM_VGIC_V3);
    expect(VgicV3.of(vm2)!.initMode).toBe("lazy-init");
    // RISC-V registers its AIA explicitly (registerRiscvAia needs GEILEN).
    expect(new Kvm({ arch: "riscv64" }).checkExtension(KVM_CAP_IRQCHIP)).toBe(0);
  });

  test("irqchips: false — ENODEV until registered; KVM_CAP_IRQCHIP follows the registration", () => {
    const kvm = new Kvm({ irqchips: false });
    const vm = kvm.createVm();
    expect(() => vm.createDevice(KVM_DEV_TYPE_ARM_VGIC_ITS)).toThrow(expect.objectContaining({ code: "ENODEV" }));
    expect(() => vm.createDevice(KVM_DEV_TYPE_ARM_VGIC_V3)).toThrow(expect.objectContaining({ code: "ENODEV" }));
    expect(kvm.checkExtension(KVM_CAP_IRQCHIP)).toBe(0);
    registerVgicV3(kvm);
    expect(kvm.checkExtension(KVM_CAP_IRQCHIP)).toBe(1);
  });

  test("EEXIST for a second vgic; KVM_CREATE_DEVICE_TEST only checks the type", () => {
    const { vm } = armVm();
    expect(() => vm.createDevice(KVM_DEV_TYPE_ARM_VGIC_V3)).toThrow(expect.objectContaining({ code: "EEXIST", errno: -17 }));
    expect(vm.createDevice(KVM_DEV_TYPE_ARM_VGIC_V3, KVM_CREATE_DEVICE_TEST)).toBeUndefined();
  });

  test("EBUSY once a vCPU has run", () => {
    const kvm = new Kvm();
    const vm = kvm.createVm();
    const v = vm.createVcpu(0);
    v.armVcpuInit({ target: KVM_ARM_TARGET_GENERIC_V8 });
    v.run();
    expect(() => vm.createDevice(KVM_DEV_TYPE_ARM_VGIC_V3)).toThrow(expect.objectContaining({ code: "EBUSY" }));
  });
});

describe("ordering against KVM_DEV_ARM_VGIC_CTRL_INIT (vgic-init.c, arm.c, eventfd.c kvm_irqfd_assign)", () => {
  test("before INIT: KVM_IRQ_LINE EBUSY, KVM_IRQFD EAGAIN, KVM_RUN EBUSY, register access EBUSY", () => {
    const { vm, vcpus, dev } = armVm({ init: false });
    expect(() => vm.irqLine(spi(40), 1)).toThrow(expect.objectContaining({ code: "EBUSY", ioctl: "KVM_IRQ_LINE" }));
    expect(() => vm.irqLine(ppi(0, 20), 1)).toThrow(expect.objectContaining({ code: "EBUSY" }));
    expect(() => vm.irqfd({ fd: new EventFd(), gsi: 8 })).toThrow(expect.objectContaining({ code: "EAGAIN", errno: -11 }));
    expect(() => vcpus[0]!.run()).toThrow(expect.objectContaining({ code: "EBUSY", ioctl: "KVM_RUN" }));
    expect(() => dev.getDeviceAttr({ group: KVM_DEV_ARM_VGIC_GRP_DIST_REGS, attr: 0 })).toThrow(expect.objectContaining({ code: "EBUSY" }));
    // Validation that comes before vgic_lazy_init still answers EINVAL.
    expect(() => vm.irqLine(spi(31), 1)).toThrow(expect.objectContaining({ code: "EINVAL" }));
  });

  test("after INIT: a new vCPU is EBUSY, INIT again is a no-op, the VM runs", () => {
    const { vm, vcpus, dev } = armVm();
    expect(() => vm.createVcpu(1)).toThrow(expect.objectContaining({ code: "EBUSY", ioctl: "KVM_CREATE_VCPU" }));
    dev.setDeviceAttr({ group: CTRL, attr: KVM_DEV_ARM_VGIC_CTRL_INIT });
    expect(vcpus[0]!.run().reason).toBeGreaterThan(0);
  });
});

describe("KVM_IRQ_LINE with an in-kernel vgic (arm.c kvm_vm_ioctl_irq_line)", () => {
  const { vm, vgic } = armVm({ vcpus: 2 });
  test.each([
    ["CPU type with a vgic", 0, "ENXIO"],
    ["SPI below 32", spi(31), "EINVAL"],
    ["SPI = nr_irqs (256)", spi(256), "EINVAL"],
    ["SPI 1020", spi(1020), "EINVAL"],
    ["PPI of a missing vCPU", ppi(5, 20), "EINVAL"],
    ["PPI 15 (an SGI)", ppi(0, 15), "EINVAL"],
    ["PPI 32", ppi(0, 32), "EINVAL"],
    ["unknown irq_type 3", (3 << 24) | 40, "EINVAL"],
  ])("%s → %s", (_name, irq, code) => {
    expect(() => vm.irqLine(irq, 1)).toThrow(expect.objectContaining({ code }));
  });

  test("valid SPI and PPI lines reach the GIC, level 0 of an edge is a successful no-op", () => {
    vm.irqLine(spi(255), 1);
    vm.irqLine(ppi(1, 23), 1);
    expect(vgic.gic!.lineLevel(0, 255)).toBe(true);
    expect(vgic.gic!.lineLevel(1, 23)).toBe(true);
    expect(vgic.gic!.lineLevel(0, 23)).toBe(false);
    expect(() => vm.irqLine(spi(40), 0)).not.toThrow();
  });
});

describe("KVM_DEV_ARM_VGIC_GRP_NR_IRQS (vgic-kvm-device.c vgic_set_common_attr)", () => {
  test.each([[32], [1024], [100], [63]])("%i → EINVAL", (n) => {
    const { dev } = armVm({ init: false });
    expect(() => dev.setDeviceAttr({ group: KVM_DEV_ARM_VGIC_GRP_NR_IRQS, attr: 0, value: n })).toThrow(expect.objectContaining({ code: "EINVAL" }));
  });

  test("992 is the largest accepted; a second set or a set after INIT is EBUSY; INIT defaults to 256", () => {
    const { dev, vgic } = armVm({ init: false });
    expect(dev.getDeviceAttr({ group: KVM_DEV_ARM_VGIC_GRP_NR_IRQS, attr: 0 })).toBe(32);
    dev.setDeviceAttr({ group: KVM_DEV_ARM_VGIC_GRP_NR_IRQS, attr: 0, value: 992 });
    expect(() => dev.setDeviceAttr({ group: KVM_DEV_ARM_VGIC_GRP_NR_IRQS, attr: 0, value: 128 })).toThrow(expect.objectContaining({ code: "EBUSY" }));
    dev.setDeviceAttr({ group: CTRL, attr: KVM_DEV_ARM_VGIC_CTRL_INIT });
    expect(vgic.gic!.nrIrqs).toBe(992);
    const other = armVm();
    expect(other.dev.getDeviceAttr({ group: KVM_DEV_ARM_VGIC_GRP_NR_IRQS, attr: 0 })).toBe(256);
    expect(() => other.dev.setDeviceAttr({ group: KVM_DEV_ARM_VGIC_GRP_NR_IRQS, attr: 0, value: 128 })).toThrow(expect.objectContaining({ code: "EBUSY" }));
  });
});

describe("KVM_DEV_ARM_VGIC_GRP_ADDR (vgic-kvm-device.c kvm_vgic_addr, vgic-mmio-v3.c)", () => {
  test("distributor: EINVAL misaligned, E2BIG beyond the 40-bit IPA, EEXIST twice, read back", () => {
    const { dev } = armVm({ addresses: false, init: false });
    const set = (attr: number, value: unknown): void => dev.setDeviceAttr({ group: ADDR, attr, value });
    expect(dev.getDeviceAttr({ group: ADDR, attr: KVM_VGIC_V3_ADDR_TYPE_DIST })).toBe(VGIC_ADDR_UNDEF);
    expect(() => set(KVM_VGIC_V3_ADDR_TYPE_DIST, 0x0800_1000)).toThrow(expect.objectContaining({ code: "EINVAL" }));
    expect(() => set(KVM_VGIC_V3_ADDR_TYPE_DIST, 2 ** 40)).toThrow(expect.objectContaining({ code: "E2BIG" }));
    set(KVM_VGIC_V3_ADDR_TYPE_DIST, DIST_BASE);
    expect(() => set(KVM_VGIC_V3_ADDR_TYPE_DIST, 0x0900_0000)).toThrow(expect.objectContaining({ code: "EEXIST" }));
    expect(dev.getDeviceAttr({ group: ADDR, attr: KVM_VGIC_V3_ADDR_TYPE_DIST })).toBe(BigInt(DIST_BASE));
    expect(() => set(KVM_VGIC_ITS_ADDR_TYPE, 0x0808_0000)).toThrow(expect.objectContaining({ code: "ENXIO" }));
    expect(() => dev.hasDeviceAttr({ group: ADDR, attr: KVM_VGIC_ITS_ADDR_TYPE })).toThrow(expect.objectContaining({ code: "ENXIO" }));
  });

  test("legacy REDIST: EEXIST twice; REDIST_REGION after it must not be legacy again", () => {
    const { dev } = armVm({ init: false });
    expect(() => dev.setDeviceAttr({ group: ADDR, attr: KVM_VGIC_V3_ADDR_TYPE_REDIST, value: 0x0a00_0000 })).toThrow(expect.objectContaining({ code: "EEXIST" }));
  });

  test("REDIST_REGION: count 0, flags, first index ≠ 0, index gap, overlap → EINVAL; unknown index read → ENOENT", () => {
    const { dev } = armVm({ addresses: false, init: false });
    const set = (v: bigint): void => dev.setDeviceAttr({ group: ADDR, attr: KVM_VGIC_V3_ADDR_TYPE_REDIST_REGION, value: v });
    expect(() => set(redistRegionAttr(0, REDIST_BASE, 0))).toThrow(expect.objectContaining({ code: "EINVAL" }));
    expect(() => set(redistRegionAttr(0, REDIST_BASE, 1, 1))).toThrow(expect.objectContaining({ code: "EINVAL" }));
    expect(() => set(redistRegionAttr(1, REDIST_BASE, 1))).toThrow(expect.objectContaining({ code: "EINVAL" }));
    set(redistRegionAttr(0, REDIST_BASE, 2));
    expect(() => set(redistRegionAttr(2, 0x1000_0000, 1))).toThrow(expect.objectContaining({ code: "EINVAL" }));
    expect(() => set(redistRegionAttr(1, REDIST_BASE + 0x20000, 1))).toThrow(expect.objectContaining({ code: "EINVAL" }));
    expect(() => set(redistRegionAttr(1, 2 ** 40 - 0x10000, 1))).toThrow(expect.objectContaining({ code: "E2BIG" }));
    expect(() => dev.setDeviceAttr({ group: ADDR, attr: KVM_VGIC_V3_ADDR_TYPE_REDIST, value: 0x0a00_0000 })).toThrow(expect.objectContaining({ code: "EINVAL" }));
    expect(dev.getDeviceAttr({ group: ADDR, attr: KVM_VGIC_V3_ADDR_TYPE_REDIST_REGION, value: 0n })).toBe(redistRegionAttr(0, REDIST_BASE, 2));
    expect(() => dev.getDeviceAttr({ group: ADDR, attr: KVM_VGIC_V3_ADDR_TYPE_REDIST_REGION, value: 1n })).toThrow(expect.objectContaining({ code: "ENOENT" }));
  });
});

describe("first KVM_RUN: kvm_vgic_map_resources address checks (vgic-v3.c vgic_v3_map_resources)", () => {
  test("ENXIO without a distributor base", () => {
    const { vcpus, dev } = armVm({ addresses: false });
    dev.setDeviceAttr({ group: ADDR, attr: KVM_VGIC_V3_ADDR_TYPE_REDIST, value: REDIST_BASE });
    expect(() => vcpus[0]!.run()).toThrow(expect.objectContaining({ code: "ENXIO" }));
  });

  test("ENXIO when the regions hold fewer redistributors than vCPUs; the failure kills the VM (kvm_vm_dead: EIO after)", () => {
    const { vcpus, dev } = armVm({ vcpus: 2, addresses: false });
    dev.setDeviceAttr({ group: ADDR, attr: KVM_VGIC_V3_ADDR_TYPE_DIST, value: DIST_BASE });
    dev.setDeviceAttr({ group: ADDR, attr: KVM_VGIC_V3_ADDR_TYPE_REDIST_REGION, value: redistRegionAttr(0, REDIST_BASE, 1) });
    expect(() => vcpus[0]!.run()).toThrow(expect.objectContaining({ code: "ENXIO" }));
    dev.setDeviceAttr({ group: ADDR, attr: KVM_VGIC_V3_ADDR_TYPE_REDIST_REGION, value: redistRegionAttr(1, 0x1000_0000, 1) });
    expect(() => vcpus[0]!.run()).toThrow(expect.objectContaining({ code: "EIO" }));
    // The same layout completed before the first KVM_RUN runs.
    const ok = armVm({ vcpus: 2, addresses: false });
    ok.dev.setDeviceAttr({ group: ADDR, attr: KVM_VGIC_V3_ADDR_TYPE_DIST, value: DIST_BASE });
    ok.dev.setDeviceAttr({ group: ADDR, attr: KVM_VGIC_V3_ADDR_TYPE_REDIST_REGION, value: redistRegionAttr(0, REDIST_BASE, 1) });
    ok.dev.setDeviceAttr({ group: ADDR, attr: KVM_VGIC_V3_ADDR_TYPE_REDIST_REGION, value: redistRegionAttr(1, 0x1000_0000, 1) });
    expect(() => ok.vcpus[0]!.run()).not.toThrow();
  });

  test("vgic_v3_map_resources order: ENXIO and EINVAL come before the EBUSY of a vgic not initialised", () => {
    const noRd = armVm({ vcpus: 2, addresses: false, init: false });
    noRd.dev.setDeviceAttr({ group: ADDR, attr: KVM_VGIC_V3_ADDR_TYPE_DIST, value: DIST_BASE });
    expect(() => noRd.vcpus[0]!.run()).toThrow(expect.objectContaining({ code: "ENXIO" }));
    const overlap = armVm({ vcpus: 2, addresses: false, init: false });
    overlap.dev.setDeviceAttr({ group: ADDR, attr: KVM_VGIC_V3_ADDR_TYPE_REDIST, value: DIST_BASE - 0x20000 });
    overlap.dev.setDeviceAttr({ group: ADDR, attr: KVM_VGIC_V3_ADDR_TYPE_DIST, value: DIST_BASE });
    expect(() => overlap.vcpus[0]!.run()).toThrow(expect.objectContaining({ code: "EINVAL" }));
    const fine = armVm({ vcpus: 2, init: false });
    expect(() => fine.vcpus[0]!.run()).toThrow(expect.objectContaining({ code: "EBUSY" }));
  });

  test("EINVAL when the legacy region (sized by the vCPU count) overlaps the distributor", () => {
    const { vcpus, dev } = armVm({ vcpus: 2, addresses: false });
    dev.setDeviceAttr({ group: ADDR, attr: KVM_VGIC_V3_ADDR_TYPE_REDIST, value: DIST_BASE - 0x20000 });
    dev.setDeviceAttr({ group: ADDR, attr: KVM_VGIC_V3_ADDR_TYPE_DIST, value: DIST_BASE });
    expect(() => vcpus[0]!.run()).toThrow(expect.objectContaining({ code: "EINVAL" }));
  });
});

describe("redistributor placement and GICR_TYPER.Last (vgic_mmio_vcpu_rdist_is_last)", () => {
  function layout(second: number): { last: boolean[]; guestLast: boolean[] } {
    const { vm, vcpus, dev } = armVm({ vcpus: 3, addresses: false });
    dev.setDeviceAttr({ group: ADDR, attr: KVM_VGIC_V3_ADDR_TYPE_DIST, value: DIST_BASE });
    dev.setDeviceAttr({ group: ADDR, attr: KVM_VGIC_V3_ADDR_TYPE_REDIST_REGION, value: redistRegionAttr(0, REDIST_BASE, 1) });
    dev.setDeviceAttr({ group: ADDR, attr: KVM_VGIC_V3_ADDR_TYPE_REDIST_REGION, value: redistRegionAttr(1, second, 4) });
    const last = vcpus.map((v) => ((dev.getDeviceAttr({ group: KVM_DEV_ARM_VGIC_GRP_REDIST_REGS, attr: vgicRegAttr(v.mpidr, GICR_TYPER) }) as number) & GICR_TYPER_LAST) !== 0);
    vcpus[0]!.run();
    const bases = [REDIST_BASE, second, second + 0x20000];
    const guestLast = bases.map((b) => (vm.kernelBus.read(b + GICR_TYPER, 4) & GICR_TYPER_LAST) !== 0);
    expect(vm.kernelBus.read(second + 2 * 0x20000, 4)).toBe(MMIO_UNHANDLED); // unused slot: exits to the VMM
    return { last, guestLast };
  }

  test("separate regions: the last used RD of each region has Last", () => {
    expect(layout(0x1000_0000)).toEqual({ last: [true, false, true], guestLast: [true, false, true] });
  });

  test("a full region followed by a contiguous used region: no Last at the boundary", () => {
    expect(layout(REDIST_BASE + 0x20000)).toEqual({ last: [false, false, true], guestLast: [false, false, true] });
  });
});

describe("register groups (vgic_v3_attr_regs_access)", () => {
  test("unknown group ENXIO; REDIST_REGS with an unknown MPIDR EINVAL; CPU_SYSREGS PMR round trip; LEVEL_INFO alignment", () => {
    const { vcpus, dev, vgic } = armVm();
    expect(() => dev.setDeviceAttr({ group: 42, attr: 0, value: 0 })).toThrow(expect.objectContaining({ code: "ENXIO" }));
    expect(() => dev.getDeviceAttr({ group: KVM_DEV_ARM_VGIC_GRP_REDIST_REGS, attr: vgicRegAttr(0x8000_0007, GICR_TYPER) })).toThrow(expect.objectContaining({ code: "EINVAL" }));
    const pmr = vgicRegAttr(vcpus[0]!.mpidr, vgicSysregAttr(ICC_PMR_EL1));
    dev.setDeviceAttr({ group: KVM_DEV_ARM_VGIC_GRP_CPU_SYSREGS, attr: pmr, value: 0xf0 });
    expect(dev.getDeviceAttr({ group: KVM_DEV_ARM_VGIC_GRP_CPU_SYSREGS, attr: pmr })).toBe(0xf0);
    expect(vgic.gic!.readSysReg(0, ICC_PMR_EL1)).toBe(0xf0);
    const lvl = (intid: number): bigint => vgicRegAttr(vcpus[0]!.mpidr, intid);
    expect(() => dev.getDeviceAttr({ group: KVM_DEV_ARM_VGIC_GRP_LEVEL_INFO, attr: lvl(33) })).toThrow(expect.objectContaining({ code: "EINVAL" }));
    // SPIs reset edge-triggered in KVM: LEVEL_INFO writes leave them alone.
    dev.setDeviceAttr({ group: KVM_DEV_ARM_VGIC_GRP_LEVEL_INFO, attr: lvl(32), value: 0xffff_ffff });
    expect(dev.getDeviceAttr({ group: KVM_DEV_ARM_VGIC_GRP_LEVEL_INFO, attr: lvl(32) })).toBe(0);
    vgic.gic!.distributor.write(0xc00 + 8, 4, 0, 0); // GICD_ICFGR2: SPIs 32..47 level-sensitive
    dev.setDeviceAttr({ group: KVM_DEV_ARM_VGIC_GRP_LEVEL_INFO, attr: lvl(32), value: 0x8001 });
    expect(dev.getDeviceAttr({ group: KVM_DEV_ARM_VGIC_GRP_LEVEL_INFO, attr: lvl(32) })).toBe(0x8001);
    expect(() => dev.setDeviceAttr({ group: KVM_DEV_ARM_VGIC_GRP_DIST_REGS, attr: 0x8, value: 0 })).toThrow(expect.objectContaining({ code: "EINVAL" }));
  });
});

describe("register groups: Linux's order and values (vgic-kvm-device.c, vgic-mmio-v3.c)", () => {
  const dist = (attr: number): { group: number; attr: number } => ({ group: KVM_DEV_ARM_VGIC_GRP_DIST_REGS, attr });

  test("vgic_v3_parse_attr before the init check: EINVAL for a missing vCPU (vCPU 0 for DIST_REGS), then EBUSY", () => {
    const kvm = new Kvm();
    const vm = kvm.createVm();
    const dev = vm.createDevice(KVM_DEV_TYPE_ARM_VGIC_V3);
    expect(() => dev.getDeviceAttr(dist(GICD_ISPENDR + 4))).toThrow(expect.objectContaining({ code: "EINVAL" }));
    expect(() => dev.hasDeviceAttr(dist(GICD_ISPENDR + 4))).toThrow(expect.objectContaining({ code: "EINVAL" }));
    const v0 = vm.createVcpu(0);
    expect(() => dev.getDeviceAttr(dist(GICD_ISPENDR + 4))).toThrow(expect.objectContaining({ code: "EBUSY" }));
    const lvl = (mpidr: number, low: number): { group: number; attr: bigint } => ({ group: KVM_DEV_ARM_VGIC_GRP_LEVEL_INFO, attr: vgicRegAttr(mpidr, low) });
    expect(() => dev.getDeviceAttr(lvl(0x8000_0007, 32))).toThrow(expect.objectContaining({ code: "EINVAL" }));
    expect(() => dev.getDeviceAttr(lvl(v0.mpidr, 33))).toThrow(expect.objectContaining({ code: "EBUSY" }));
    const pmr = { group: KVM_DEV_ARM_VGIC_GRP_CPU_SYSREGS, attr: vgicRegAttr(0x8000_0007, vgicSysregAttr(ICC_PMR_EL1)) };
    expect(() => dev.getDeviceAttr(pmr)).toThrow(expect.objectContaining({ code: "EINVAL" }));
    expect(() => dev.hasDeviceAttr(pmr)).toThrow(expect.objectContaining({ code: "EINVAL" }));
  });

  test("LEVEL_INFO: a vINTID above 1023 spills into the info field: EINVAL", () => {
    const { vcpus, dev } = armVm();
    const attr = (low: number): bigint => vgicRegAttr(vcpus[0]!.mpidr, low);
    expect(dev.getDeviceAttr({ group: KVM_DEV_ARM_VGIC_GRP_LEVEL_INFO, attr: attr(992) })).toBe(0);
    expect(() => dev.getDeviceAttr({ group: KVM_DEV_ARM_VGIC_GRP_LEVEL_INFO, attr: attr(1024) })).toThrow(expect.objectContaining({ code: "EINVAL" }));
    expect(() => dev.setDeviceAttr({ group: KVM_DEV_ARM_VGIC_GRP_LEVEL_INFO, attr: attr(1056), value: 1 })).toThrow(expect.objectContaining({ code: "EINVAL" }));
    expect(() => dev.hasDeviceAttr({ group: KVM_DEV_ARM_VGIC_GRP_LEVEL_INFO, attr: attr(1024) })).toThrow(expect.objectContaining({ code: "ENXIO" }));
  });

  test("GICD_ICPENDR and GICR_ICPENDR0 read as zero from userspace; ISPENDR shows the latch", () => {
    const { vcpus, dev } = armVm();
    dev.setDeviceAttr({ ...dist(GICD_ISPENDR + 4), value: 1 << 8 });
    expect(dev.getDeviceAttr(dist(GICD_ISPENDR + 4))).toBe(1 << 8);
    expect(dev.getDeviceAttr(dist(GICD_ICPENDR + 4))).toBe(0);
    const rd = (off: number): { group: number; attr: bigint } => ({ group: KVM_DEV_ARM_VGIC_GRP_REDIST_REGS, attr: vgicRegAttr(vcpus[0]!.mpidr, GICR_SGI_BASE + off) });
    dev.setDeviceAttr({ ...rd(GICR_ISPENDR0), value: 1 << 3 });
    expect(dev.getDeviceAttr(rd(GICR_ISPENDR0))).toBe(1 << 3);
    expect(dev.getDeviceAttr(rd(GICR_ICPENDR0))).toBe(0);
  });

  test("GICD_IIDR before init: Revision 0 until set, 2 or 3 accepted and kept by vgic_init; the latest (3) by default", () => {
    const fresh = armVm({ init: false });
    expect(fresh.dev.getDeviceAttr(dist(GICD_IIDR))).toBe(0x4b00_043b);
    expect(() => fresh.dev.setDeviceAttr({ ...dist(GICD_IIDR), value: 0x4b00_443b })).toThrow(expect.objectContaining({ code: "EINVAL" }));
    expect(() => fresh.dev.setDeviceAttr({ ...dist(GICD_IIDR), value: 0x4c00_243b })).toThrow(expect.objectContaining({ code: "EINVAL" }));
    fresh.dev.setDeviceAttr({ ...dist(GICD_IIDR), value: 0x4b00_243b });
    fresh.dev.setDeviceAttr({ group: CTRL, attr: KVM_DEV_ARM_VGIC_CTRL_INIT });
    expect(fresh.dev.getDeviceAttr(dist(GICD_IIDR))).toBe(0x4b00_243b);
    expect(armVm().dev.getDeviceAttr(dist(GICD_IIDR))).toBe(0x4b00_343b);
  });

  test("GICR_TYPER: Processor_Number is the vcpu_id, PLPIS only once the VM has a vITS (vgic_has_its)", () => {
    const kvm = new Kvm();
    const vm = kvm.createVm();
    const ids = [4, 1];
    const vcpus = ids.map((id) => {
      const v = vm.createVcpu(id);
      v.armVcpuInit({ target: KVM_ARM_TARGET_GENERIC_V8 });
      return v;
    });
    const dev = vm.createDevice(KVM_DEV_TYPE_ARM_VGIC_V3);
    dev.setDeviceAttr({ group: ADDR, attr: KVM_VGIC_V3_ADDR_TYPE_DIST, value: DIST_BASE });
    dev.setDeviceAttr({ group: ADDR, attr: KVM_VGIC_V3_ADDR_TYPE_REDIST, value: REDIST_BASE });
    dev.setDeviceAttr({ group: CTRL, attr: KVM_DEV_ARM_VGIC_CTRL_INIT });
    const typer = (i: number): number => dev.getDeviceAttr({ group: KVM_DEV_ARM_VGIC_GRP_REDIST_REGS, attr: vgicRegAttr(vcpus[i]!.mpidr, GICR_TYPER) }) as number;
    expect(typer(0)).toBe(4 << 8);
    expect(typer(1)).toBe((1 << 8) | GICR_TYPER_LAST);
    vm.createDevice(KVM_DEV_TYPE_ARM_VGIC_ITS);
    expect(typer(0)).toBe((4 << 8) | GICR_TYPER_PLPIS);
    vcpus[0]!.run();
    // The guest's view of the mapped frame: the same value.
    expect(vm.kernelBus.read(REDIST_BASE + 0x20000 + GICR_TYPER, 4)).toBe((1 << 8) | GICR_TYPER_LAST | GICR_TYPER_PLPIS);
  });

  test("KVM_CREATE_VCPU is EINVAL when the new vCPU's redistributor would break the layout (kvm_vgic_vcpu_init)", () => {
    const { vm, dev } = armVm({ addresses: false, init: false });
    dev.setDeviceAttr({ group: ADDR, attr: KVM_VGIC_V3_ADDR_TYPE_REDIST, value: DIST_BASE - 0x20000 });
    dev.setDeviceAttr({ group: ADDR, attr: KVM_VGIC_V3_ADDR_TYPE_DIST, value: DIST_BASE });
    // Creating the 2nd vCPU is fine (check_base counts the online ones); the 3rd sees the overlap.
    vm.createVcpu(1);
    expect(() => vm.createVcpu(2)).toThrow(expect.objectContaining({ code: "EINVAL", ioctl: "KVM_CREATE_VCPU" }));
  });
});
