/**
 * The vPMU's vCPU attributes and first-run check against arch/arm64/kvm/pmu-emul.c
 * (kvm_arm_pmu_v3_set_attr, _get_attr, _has_attr, kvm_arm_pmu_v3_init,
 * kvm_arm_pmu_v3_set_pmu, kvm_arm_pmu_v3_enable), and the vgic's line owners
 * the vPMU and the timers take (vgic.c kvm_vgic_set_owner, vgic_validate_injection;
 * arch_timer.c timer_irqs_are_valid).
 */

import { op } from "@irqlab/sim";
import { describe, expect, test } from "vitest";
import { Host } from "./host.js";
import { EventFd } from "./irqfd/eventfd.js";
import { Kvm } from "./kvm.js";
import {
  KVM_ARM_TARGET_GENERIC_V8,
  KVM_ARM_VCPU_PMU_V3,
  KVM_ARM_VCPU_PMU_V3_CTRL,
  KVM_ARM_VCPU_PMU_V3_FILTER,
  KVM_ARM_VCPU_PMU_V3_INIT,
  KVM_ARM_VCPU_PMU_V3_IRQ,
  KVM_ARM_VCPU_PMU_V3_SET_PMU,
  KVM_ARM_VCPU_TIMER_CTRL,
  KVM_ARM_VCPU_TIMER_IRQ_VTIMER,
  KVM_DEV_TYPE_ARM_VGIC_V3,
  KVM_EXIT_MMIO,
  KVM_PMU_EVENT_ALLOW,
  KVM_PMU_EVENT_DENY,
} from "./index.js";
import type { Vcpu } from "./vcpu.js";
import { KVM_DEV_ARM_VGIC_CTRL_INIT, KVM_DEV_ARM_VGIC_GRP_ADDR, KVM_DEV_ARM_VGIC_GRP_CTRL, KVM_VGIC_V3_ADDR_TYPE_DIST, KVM_VGIC_V3_ADDR_TYPE_REDIST } from "./vgic/vgic-uapi.js";
import { VgicV3, pmuOwner, timerOwner } from "./vgic/vgic-v3.js";

const PMU = KVM_ARM_VCPU_PMU_V3_CTRL;
const irq = (value: unknown) => ({ group: PMU, attr: KVM_ARM_VCPU_PMU_V3_IRQ, value });
const INIT = { group: PMU, attr: KVM_ARM_VCPU_PMU_V3_INIT };
const filter = (value: unknown) => ({ group: PMU, attr: KVM_ARM_VCPU_PMU_V3_FILTER, value });
const setPmu = (value: unknown) => ({ group: PMU, attr: KVM_ARM_VCPU_PMU_V3_SET_PMU, value });
/** The PPI QEMU's virt gives the vPMU (VIRTUAL_PMU_IRQ 7 + 16). */
const PMU_PPI = 23;

function errno(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    return (e as { code?: string }).code;
  }
  return undefined;
}

/** An arm64 VM whose vCPUs have the vPMU feature where `pmu[i]`, each running a load of an unmapped address (KVM_EXIT_MMIO); `vgic` adds a vgic-v3 with QEMU virt's frames, `init` initialises it. */
function rig(o: { pmu: boolean[]; vgic?: boolean; init?: boolean; host?: Host }) {
  const kvm = new Kvm(o.host === undefined ? {} : { host: o.host });
  const vm = kvm.createVm();
  const vcpus: Vcpu[] = o.pmu.map((pmu, i) => {
    const v = vm.createVcpu(i);
    v.armVcpuInit({ target: KVM_ARM_TARGET_GENERIC_V8, features: pmu ? 1 << KVM_ARM_VCPU_PMU_V3 : 0 });
    v.loadGuest({ main: function* () { yield op.read(0x0900_0000, 4); } });
    return v;
  });
  if (o.vgic === true) {
    const dev = vm.createDevice(KVM_DEV_TYPE_ARM_VGIC_V3);
    dev.setDeviceAttr({ group: KVM_DEV_ARM_VGIC_GRP_ADDR, attr: KVM_VGIC_V3_ADDR_TYPE_DIST, value: 0x0800_0000 });
    dev.setDeviceAttr({ group: KVM_DEV_ARM_VGIC_GRP_ADDR, attr: KVM_VGIC_V3_ADDR_TYPE_REDIST, value: 0x080a_0000 });
    if (o.init !== false) dev.setDeviceAttr({ group: KVM_DEV_ARM_VGIC_GRP_CTRL, attr: KVM_DEV_ARM_VGIC_CTRL_INIT });
  }
  return { vm, vcpus, v: vcpus[0]!, vgic: VgicV3.of(vm) };
}

describe("KVM_ARM_VCPU_PMU_V3_CTRL: which errno, in Linux's order", () => {
  test("a vCPU without the feature: SET → ENODEV, HAS → ENXIO, GET → EINVAL without a vgic and ENODEV with one", () => {
    const { v } = rig({ pmu: [false] });
    expect(errno(() => v.setDeviceAttr(INIT))).toBe("ENODEV");
    expect(errno(() => v.setDeviceAttr({ group: PMU, attr: 99 }))).toBe("ENODEV");
    // kvm_arm_pmu_v3_has_attr: 0 only "if (kvm_vcpu_has_pmu(vcpu))".
    expect(errno(() => v.hasDeviceAttr(INIT))).toBe("ENXIO");
    expect(errno(() => v.getDeviceAttr(irq(0)))).toBe("EINVAL");
    expect(errno(() => rig({ pmu: [false], vgic: true }).v.getDeviceAttr(irq(0)))).toBe("ENODEV");
    expect(v.hasPmu).toBe(false);
  });

  test("HAS: IRQ, INIT, FILTER and SET_PMU; anything else ENXIO. GET reads the IRQ only", () => {
    const { v } = rig({ pmu: [true], vgic: true });
    for (const attr of [KVM_ARM_VCPU_PMU_V3_IRQ, KVM_ARM_VCPU_PMU_V3_INIT, KVM_ARM_VCPU_PMU_V3_FILTER, KVM_ARM_VCPU_PMU_V3_SET_PMU]) {
      expect(v.hasDeviceAttr({ group: PMU, attr })).toBeUndefined();
    }
    expect(errno(() => v.hasDeviceAttr({ group: PMU, attr: 5 }))).toBe("ENXIO");
    expect(errno(() => v.getDeviceAttr(INIT))).toBe("ENXIO");
    expect(errno(() => v.getDeviceAttr(irq(0)))).toBe("ENXIO"); // not set yet
    expect(errno(() => v.setDeviceAttr({ group: PMU, attr: 5 }))).toBe("ENXIO");
  });

  test("IRQ needs an in-kernel irqchip; without one INIT takes nothing and the vCPU runs", () => {
    const { v } = rig({ pmu: [true] });
    expect(errno(() => v.setDeviceAttr(irq(PMU_PPI)))).toBe("EINVAL");
    expect(errno(() => v.getDeviceAttr(irq(0)))).toBe("EINVAL");
    v.setDeviceAttr(INIT);
    expect(v.run().reason).toBe(KVM_EXIT_MMIO);
  });

  test("IRQ: EFAULT for what is not an int, EINVAL for an SGI or an INTID past 1019, EBUSY once set", () => {
    const { v } = rig({ pmu: [true], vgic: true });
    expect(errno(() => v.setDeviceAttr(irq("23")))).toBe("EFAULT");
    expect(errno(() => v.setDeviceAttr(irq(15)))).toBe("EINVAL");
    expect(errno(() => v.setDeviceAttr(irq(1020)))).toBe("EINVAL");
    v.setDeviceAttr(irq(PMU_PPI));
    expect(v.getDeviceAttr(irq(0))).toBe(PMU_PPI);
    // kvm_arm_pmu_irq_initialized: even the same number again.
    expect(errno(() => v.setDeviceAttr(irq(PMU_PPI)))).toBe("EBUSY");
  });

  test("pmu_irq_is_valid: one PPI for every vCPU, or an SPI of each vCPU's own", () => {
    const ppis = rig({ pmu: [true, true, true], vgic: true });
    ppis.vcpus[0]!.setDeviceAttr(irq(PMU_PPI));
    expect(errno(() => ppis.vcpus[1]!.setDeviceAttr(irq(22)))).toBe("EINVAL");
    ppis.vcpus[1]!.setDeviceAttr(irq(PMU_PPI));
    // A PPI differs from an SPI already taken: not the same PPI everywhere.
    const spis = rig({ pmu: [true, true, true], vgic: true });
    spis.vcpus[0]!.setDeviceAttr(irq(40));
    expect(errno(() => spis.vcpus[1]!.setDeviceAttr(irq(40)))).toBe("EINVAL");
    spis.vcpus[1]!.setDeviceAttr(irq(41));
    expect(errno(() => spis.vcpus[2]!.setDeviceAttr(irq(PMU_PPI)))).toBe("EINVAL");
  });

  test("INIT: ENODEV before vgic init, ENXIO without an IRQ, EINVAL for an SPI past NR_IRQS; then EBUSY for every attribute", () => {
    const early = rig({ pmu: [true], vgic: true, init: false });
    // kvm_arm_pmu_v3_init looks at the vgic before the IRQ.
    expect(errno(() => early.v.setDeviceAttr(INIT))).toBe("ENODEV");
    const { v } = rig({ pmu: [true, true], vgic: true });
    expect(errno(() => v.setDeviceAttr(INIT))).toBe("ENXIO");
    // NR_IRQS is 256 unless set: SPI 300 passes irq_is_spi but not the vgic's claim (vgic_valid_spi).
    const w = rig({ pmu: [true], vgic: true }).v;
    w.setDeviceAttr(irq(300));
    expect(errno(() => w.setDeviceAttr(INIT))).toBe("EINVAL");
    v.setDeviceAttr(irq(PMU_PPI));
    v.setDeviceAttr(INIT);
    for (const a of [INIT, irq(PMU_PPI), setPmu(0), filter({ baseEvent: 0, nevents: 1, action: KVM_PMU_EVENT_ALLOW }), { group: PMU, attr: 99 }]) {
      expect(errno(() => v.setDeviceAttr(a))).toBe("EBUSY");
    }
    expect(v.getDeviceAttr(irq(0))).toBe(PMU_PPI);
  });

  test("SET_PMU: EFAULT, ENXIO for a PMU no host CPU has, EBUSY under a filter set for another PMU and once the VM ran", () => {
    const host = new Host({ cpus: [{ pmu: 8 }, { pmu: 9 }] });
    const { v, vm } = rig({ pmu: [true], host });
    expect(errno(() => v.setDeviceAttr(setPmu("8")))).toBe("EFAULT");
    expect(errno(() => v.setDeviceAttr(setPmu(7)))).toBe("ENXIO");
    // The first attribute picked the default PMU, host CPU 0's (8): a filter is set under it.
    v.setDeviceAttr(filter({ baseEvent: 0x11, nevents: 1, action: KVM_PMU_EVENT_DENY }));
    expect(errno(() => v.setDeviceAttr(setPmu(9)))).toBe("EBUSY");
    v.setDeviceAttr(setPmu(8));
    v.setDeviceAttr(INIT);
    expect(v.run().reason).toBe(KVM_EXIT_MMIO);
    expect(vm.hasRun).toBe(true);
    const other = rig({ pmu: [true, true], host });
    other.v.setDeviceAttr(INIT);
    other.v.run();
    expect(errno(() => other.vcpus[1]!.setDeviceAttr(setPmu(9)))).toBe("EBUSY");
  });

  test("FILTER: EFAULT for what is not a kvm_pmu_event_filter, EINVAL past event 0xffff or for an unknown action, EBUSY once the VM ran", () => {
    const { vcpus, v } = rig({ pmu: [true, true] });
    expect(errno(() => v.setDeviceAttr(filter(undefined)))).toBe("EFAULT");
    expect(errno(() => v.setDeviceAttr(filter({ baseEvent: 0x1_0000, nevents: 1, action: 0 })))).toBe("EFAULT");
    expect(errno(() => v.setDeviceAttr(filter({ baseEvent: 0xffff, nevents: 2, action: 0 })))).toBe("EINVAL");
    expect(errno(() => v.setDeviceAttr(filter({ baseEvent: 0, nevents: 1, action: 2 })))).toBe("EINVAL");
    v.setDeviceAttr(filter({ baseEvent: 0xfff0, nevents: 0x10, action: KVM_PMU_EVENT_ALLOW }));
    v.setDeviceAttr(INIT);
    v.run();
    expect(errno(() => vcpus[1]!.setDeviceAttr(filter({ baseEvent: 0, nevents: 1, action: 0 })))).toBe("EBUSY");
  });
});

describe("the first KVM_RUN of a vCPU with a vPMU (kvm_arch_vcpu_run_pid_change)", () => {
  test("EINVAL until INIT, without the VM counting as run; then the vCPU runs", () => {
    const { v, vm } = rig({ pmu: [true], vgic: true });
    expect(errno(() => v.run())).toBe("EINVAL");
    expect(vm.hasRun).toBe(false);
    v.setDeviceAttr(irq(PMU_PPI));
    v.setDeviceAttr(INIT);
    expect(v.run().reason).toBe(KVM_EXIT_MMIO);
    expect(vm.hasRun).toBe(true);
  });

  test("the vPMU on the vtimer's PPI: the timer cannot claim it (EINVAL) until the VMM moves the timer", () => {
    const { v, vm } = rig({ pmu: [true], vgic: true });
    v.setDeviceAttr(irq(27)); // the vtimer's default PPI
    v.setDeviceAttr(INIT);
    expect(errno(() => v.run())).toBe("EINVAL");
    expect(vm.hasRun).toBe(false);
    // Nothing froze the timer PPIs (KVM_ARCH_FLAG_TIMER_PPIS_IMMUTABLE comes with a valid claim).
    v.setDeviceAttr({ group: KVM_ARM_VCPU_TIMER_CTRL, attr: KVM_ARM_VCPU_TIMER_IRQ_VTIMER, value: 28 });
    expect(v.run().reason).toBe(KVM_EXIT_MMIO);
    expect(errno(() => v.setDeviceAttr({ group: KVM_ARM_VCPU_TIMER_CTRL, attr: KVM_ARM_VCPU_TIMER_IRQ_VTIMER, value: 26 }))).toBe("EBUSY");
  });
});

describe("lines the vPMU and the timers own take no injection from userspace (vgic_validate_injection)", () => {
  test("kvm_vgic_set_owner: EAGAIN before vgic init, EINVAL for an SGI or an SPI past NR_IRQS, EEXIST for another owner's line", () => {
    const early = rig({ pmu: [false], vgic: true, init: false }).vgic!;
    expect(early.setOwner(0, 23, pmuOwner(0))).toBe("EAGAIN");
    const { vgic } = rig({ pmu: [false, false], vgic: true });
    expect(vgic!.setOwner(0, 5, pmuOwner(0))).toBe("EINVAL"); // "SGIs and LPIs cannot be wired up to any device"
    expect(vgic!.setOwner(0, 256, pmuOwner(0))).toBe("EINVAL"); // NR_IRQS 256: SPIs end at 255
    expect(vgic!.setOwner(0, 23, pmuOwner(0))).toBeUndefined();
    expect(vgic!.setOwner(0, 23, pmuOwner(0))).toBeUndefined(); // the same owner again
    expect(vgic!.setOwner(0, 23, timerOwner(0))).toBe("EEXIST");
    expect(vgic!.setOwner(1, 23, timerOwner(0))).toBeUndefined(); // a PPI of another vCPU
    expect(vgic!.setOwner(0, 255, pmuOwner(0))).toBeUndefined();
    expect(vgic!.setOwner(1, 255, pmuOwner(1))).toBe("EEXIST"); // an SPI is the VM's
  });

  test("KVM_IRQ_LINE to the vPMU's PPI of its vCPU is ignored; the same PPI of a vCPU without a vPMU is not", () => {
    const { vm, vcpus, vgic } = rig({ pmu: [true, false], vgic: true });
    vcpus[0]!.setDeviceAttr(irq(PMU_PPI));
    vcpus[0]!.setDeviceAttr(INIT);
    vm.irqLine((2 << 24) | (0 << 16) | PMU_PPI, 1);
    vm.irqLine((2 << 24) | (1 << 16) | PMU_PPI, 1);
    expect(vgic!.gic!.irqs.status(0, PMU_PPI).pending).toBe(false);
    expect(vgic!.gic!.irqs.status(1, PMU_PPI).pending).toBe(true);
  });

  test("an SPI the vPMU owns ignores KVM_IRQ_LINE and irqfds; its neighbour does not", () => {
    const { vm, v, vgic } = rig({ pmu: [true], vgic: true });
    v.setDeviceAttr(irq(40));
    v.setDeviceAttr(INIT);
    vm.irqLine((1 << 24) | 40, 1);
    const fd = new EventFd();
    vm.irqfd({ fd, gsi: 40 - 32 });
    fd.signal();
    vm.irqLine((1 << 24) | 41, 1);
    expect(vgic!.gic!.irqs.status(0, 40).pending).toBe(false);
    expect(vgic!.gic!.irqs.status(0, 41).pending).toBe(true);
  });

  test("a device's injection into a line it has not claimed goes nowhere, before the VM's first claim as after it", () => {
    const { vgic } = rig({ pmu: [false, false], vgic: true });
    // vgic_validate_injection: `irq->owner != owner`, whether or not the VM has any owned line yet.
    vgic!.irqLine(2, 0, 27, true, timerOwner(0));
    expect(vgic!.gic!.irqs.status(0, 27).pending).toBe(false);
    expect(vgic!.setOwner(0, 27, timerOwner(0))).toBeUndefined();
    vgic!.irqLine(2, 1, 27, true, timerOwner(0));
    expect(vgic!.gic!.irqs.status(1, 27).pending).toBe(false);
    vgic!.irqLine(2, 0, 27, true, timerOwner(0));
    expect(vgic!.gic!.irqs.status(0, 27).pending).toBe(true);
  });

  test("after a vCPU's first KVM_RUN its timers own their PPIs: KVM_IRQ_LINE to the vtimer's is ignored", () => {
    const { vm, v, vgic } = rig({ pmu: [false], vgic: true });
    vm.irqLine((2 << 24) | 27, 1);
    expect(vgic!.gic!.irqs.status(0, 27).pending).toBe(true);
    vm.irqLine((2 << 24) | 27, 0);
    expect(vgic!.gic!.irqs.status(0, 27).pending).toBe(false); // a level PPI: pending follows the line
    v.run();
    vm.irqLine((2 << 24) | 27, 1);
    vm.irqLine((2 << 24) | 25, 1);
    expect(vgic!.gic!.irqs.status(0, 27).pending).toBe(false);
    expect(vgic!.gic!.irqs.status(0, 25).pending).toBe(true);
  });
});
