/**
 * Every ioctl method fails the way Linux's ioctl fails: a KvmError with
 * Node's `code` / negative `errno`. Sources: virt/kvm/kvm_main.c
 * (kvm_vm_ioctl_create_vcpu, kvm_ioctl_create_device, kvm_set_memory_region),
 * arch/arm64/kvm/arm.c (KVM_RUN / KVM_ARM_VCPU_INIT / KVM_IRQ_LINE),
 * Documentation/virt/kvm/api.rst.
 */
import { describe, expect, test } from "vitest";
import {
  AttrGroupTable,
  KVM_ARM_IRQ_TYPE_CPU,
  KVM_ARM_IRQ_TYPE_SHIFT,
  KVM_ARM_IRQ_TYPE_SPI,
  KVM_ARM_TARGET_GENERIC_V8,
  KVM_ARM_VCPU_PMU_V3,
  KVM_ARM_VCPU_TIMER_CTRL,
  KVM_ARM_VM_SMCCC_CTRL,
  KVM_ARM_VM_SMCCC_FILTER,
  KVM_CAP_HALT_POLL,
  KVM_CAP_IMMEDIATE_EXIT,
  KVM_CAP_IRQCHIP,
  KVM_CAP_MAX_VCPUS,
  KVM_CAP_MAX_VCPU_ID,
  KVM_CAP_MP_STATE,
  KVM_CREATE_DEVICE_TEST,
  KVM_DEV_TYPE_ARM_VGIC_V3,
  KVM_DEV_TYPE_RISCV_AIA,
  KVM_INTERRUPT_SET,
  KVM_MP_STATE_HALTED,
  KVM_MP_STATE_RUNNABLE,
  KVM_MP_STATE_STOPPED,
  KVM_MP_STATE_SUSPENDED,
  KVM_SMCCC_FILTER_DENY,
  Kvm,
  KvmError,
} from "./index.js";

function errno(fn: () => unknown): { code: string; errno: number } {
  try {
    fn();
  } catch (e) {
    if (e instanceof KvmError) return { code: e.code, errno: e.errno };
    throw e;
  }
  throw new Error("expected the ioctl to fail");
}

/** An arm64 host without in-kernel irqchip models, so tests can register their own. */
const arm = () => new Kvm({ arch: "arm64", irqchips: false });
const initVcpu = { target: KVM_ARM_TARGET_GENERIC_V8 };

describe("KvmError follows Node's convention", () => {
  test("code is the errno name, errno its negative number (asm-generic/errno-base.h)", () => {
    const vm = arm().createVm();
    vm.createVcpu(0);
    const e = errno(() => vm.createVcpu(0));
    expect(e).toEqual({ code: "EEXIST", errno: -17 });
  });
});

describe("system fd", () => {
  test("API version 12, capabilities with Linux's values", () => {
    const kvm = arm();
    expect(kvm.getApiVersion()).toBe(12);
    expect(kvm.checkExtension(KVM_CAP_IMMEDIATE_EXIT)).toBe(1);
    expect(kvm.checkExtension(KVM_CAP_MP_STATE)).toBe(1);
    expect(kvm.checkExtension(KVM_CAP_MAX_VCPUS)).toBe(512);
    expect(kvm.checkExtension(KVM_CAP_MAX_VCPU_ID)).toBe(512);
    expect(kvm.checkExtension(KVM_CAP_IRQCHIP)).toBe(0); // irqchips: false — no vgic model registered
    expect(kvm.checkExtension(99_999)).toBe(0);
  });

  test("KVM_CREATE_VM on arm64: bits outside the IPA mask or an unsupported IPA size → EINVAL", () => {
    const kvm = arm();
    expect(errno(() => kvm.createVm(0x100)).code).toBe("EINVAL");
    expect(errno(() => kvm.createVm(31)).code).toBe("EINVAL");
    expect(errno(() => kvm.createVm(52)).code).toBe("EINVAL");
    expect(kvm.createVm(0).ipaBits).toBe(40);
    expect(kvm.createVm(44).ipaBits).toBe(44);
  });
});

describe("KVM_CREATE_VCPU", () => {
  test("the same id twice → EEXIST; an id ≥ KVM_CAP_MAX_VCPU_ID → EINVAL; too many → EINVAL", () => {
    const vm = new Kvm({ maxVcpus: 2 }).createVm();
    vm.createVcpu(0);
    expect(errno(() => vm.createVcpu(0)).code).toBe("EEXIST");
    expect(errno(() => vm.createVcpu(2)).code).toBe("EINVAL");
    expect(errno(() => vm.createVcpu(-1)).code).toBe("EINVAL");
    vm.createVcpu(1);
    const vm2 = new Kvm({ maxVcpus: 2, maxVcpuId: 8 }).createVm();
    vm2.createVcpu(5);
    vm2.createVcpu(6);
    expect(errno(() => vm2.createVcpu(7)).code).toBe("EINVAL");
  });

  test("RISC-V: vCPUs after the first start STOPPED (kvm_arch_vcpu_postcreate)", () => {
    const vm = new Kvm({ arch: "riscv64" }).createVm();
    expect(vm.createVcpu(0).getMpState()).toBe(KVM_MP_STATE_RUNNABLE);
    expect(vm.createVcpu(1).getMpState()).toBe(KVM_MP_STATE_STOPPED);
  });
});

describe("KVM_CREATE_DEVICE and device attributes", () => {
  test("an unknown device type → ENODEV; with KVM_CREATE_DEVICE_TEST too", () => {
    const vm = arm().createVm();
    expect(errno(() => vm.createDevice(KVM_DEV_TYPE_ARM_VGIC_V3))).toEqual({ code: "ENODEV", errno: -19 });
    expect(errno(() => vm.createDevice(KVM_DEV_TYPE_ARM_VGIC_V3, KVM_CREATE_DEVICE_TEST)).code).toBe("ENODEV");
    expect(errno(() => vm.createDevice(KVM_DEV_TYPE_RISCV_AIA, 0x80)).code).toBe("EINVAL");
  });

  test("a registered model: unknown attribute group → ENXIO, known ones dispatched", () => {
    const kvm = arm();
    let stored = 0;
    kvm.registerDeviceType(KVM_DEV_TYPE_ARM_VGIC_V3, () =>
      new AttrGroupTable("test-vgic", new Map([[3, { has: (a) => a === 0, set: (_a, v) => (stored = v as number), get: () => stored }]])),
    );
    const vm = kvm.createVm();
    expect(vm.createDevice(KVM_DEV_TYPE_ARM_VGIC_V3, KVM_CREATE_DEVICE_TEST)).toBeUndefined();
    const dev = vm.createDevice(KVM_DEV_TYPE_ARM_VGIC_V3);
    dev.setDeviceAttr({ group: 3, attr: 0, value: 128 });
    expect(dev.getDeviceAttr({ group: 3, attr: 0 })).toBe(128);
    dev.hasDeviceAttr({ group: 3, attr: 0 });
    expect(errno(() => dev.hasDeviceAttr({ group: 42, attr: 0 }))).toEqual({ code: "ENXIO", errno: -6 });
    expect(errno(() => dev.setDeviceAttr({ group: 42, attr: 0, value: 1 })).code).toBe("ENXIO");
    expect(errno(() => dev.getDeviceAttr({ group: 3, attr: 7 })).code).toBe("ENXIO");
    expect(kvm.checkExtension(KVM_CAP_IRQCHIP)).toBe(1);
  });

  test("vCPU attributes: unknown group → ENXIO; the timer group answers for its four attributes (vm-pmu.test.ts has the PMU's)", () => {
    const vm = arm().createVm();
    const v = vm.createVcpu(0);
    v.armVcpuInit(initVcpu);
    expect(errno(() => v.hasDeviceAttr({ group: 9, attr: 0 })).code).toBe("ENXIO");
    expect(errno(() => v.setDeviceAttr({ group: 9, attr: 0, value: 0 })).code).toBe("ENXIO");
    // KVM_ARM_VCPU_TIMER_CTRL is known (kvm_arm_timer_has_attr): 0 for a timer, ENXIO for another attribute.
    expect(v.hasDeviceAttr({ group: KVM_ARM_VCPU_TIMER_CTRL, attr: 0 })).toBeUndefined();
    expect(errno(() => v.hasDeviceAttr({ group: KVM_ARM_VCPU_TIMER_CTRL, attr: 4 })).code).toBe("ENXIO");
  });

  test("VM attributes: SMCCC filter; unknown group → ENXIO; overlap → EEXIST; after a run → EBUSY", () => {
    const vm = arm().createVm();
    const f = { group: KVM_ARM_VM_SMCCC_CTRL, attr: KVM_ARM_VM_SMCCC_FILTER };
    expect(errno(() => vm.hasDeviceAttr({ group: 9, attr: 0 })).code).toBe("ENXIO");
    vm.setDeviceAttr({ ...f, value: { base: 0xc600_0000, nrFunctions: 16, action: KVM_SMCCC_FILTER_DENY } });
    expect(errno(() => vm.setDeviceAttr({ ...f, value: { base: 0xc600_0008, nrFunctions: 16, action: 0 } })).code).toBe("EEXIST");
    expect(errno(() => vm.setDeviceAttr({ ...f, value: { base: 0, nrFunctions: 0, action: 0 } })).code).toBe("EINVAL");
    expect(errno(() => vm.setDeviceAttr({ ...f, value: { base: 0, nrFunctions: 1, action: 3 } })).code).toBe("EINVAL");
    const v = vm.createVcpu(0);
    v.armVcpuInit(initVcpu);
    v.run();
    expect(errno(() => vm.setDeviceAttr({ ...f, value: { base: 0, nrFunctions: 1, action: 0 } })).code).toBe("EBUSY");
  });
});

describe("KVM_RUN refusals", () => {
  test("arm64 without KVM_ARM_VCPU_INIT → ENOEXEC; arg ≠ 0 → EINVAL; dead VM → EIO", () => {
    const vm = arm().createVm();
    const v = vm.createVcpu(0);
    expect(errno(() => v.run())).toEqual({ code: "ENOEXEC", errno: -8 });
    v.armVcpuInit(initVcpu);
    expect(errno(() => v.run(1)).code).toBe("EINVAL");
    vm.dead = true;
    expect(errno(() => v.run()).code).toBe("EIO");
    // kvm_vcpu_ioctl (virt/kvm/kvm_main.c) refuses every ioctl of a dead VM before KVM_RUN looks at its argument.
    expect(errno(() => v.run(1)).code).toBe("EIO");
  });

  test("KVM_ARM_VCPU_INIT: wrong target → EINVAL, unknown feature → ENOENT, changed re-init → EINVAL", () => {
    const v = arm().createVm().createVcpu(0);
    expect(errno(() => v.armVcpuInit({ target: 0 })).code).toBe("EINVAL");
    expect(errno(() => v.armVcpuInit({ ...initVcpu, features: 1 << 9 })).code).toBe("ENOENT");
    v.armVcpuInit(initVcpu);
    expect(errno(() => v.armVcpuInit({ ...initVcpu, features: 1 << KVM_ARM_VCPU_PMU_V3 })).code).toBe("EINVAL");
    v.armVcpuInit(initVcpu); // same again: a reset
  });

  test("KVM_ARM_VCPU_INIT takes the UAPI's features[7] array; unknown bits are named in hex", () => {
    const v = arm().createVm().createVcpu(0);
    // kvm_vcpu_init_check_features(): any bit in features[1..6] → ENOENT.
    expect(() => v.armVcpuInit({ ...initVcpu, features: [0, 0x10] })).toThrow(/unknown feature bits 0x10 in features\[1\]/);
    expect(() => v.armVcpuInit({ ...initVcpu, features: [1 << 9] })).toThrow(/unknown feature bits 0x200 in features\[0\]/);
    expect(errno(() => v.armVcpuInit({ ...initVcpu, features: [0, 0, 0, 0, 0, 0, 0, 0] })).code).toBe("EINVAL");
    v.armVcpuInit({ ...initVcpu, features: [1 << KVM_ARM_VCPU_PMU_V3, 0, 0, 0, 0, 0, 0] });
    // The same bitmap as a number is the same init (a reset, not a change).
    v.armVcpuInit({ ...initVcpu, features: 1 << KVM_ARM_VCPU_PMU_V3 });
    expect(errno(() => v.armVcpuInit({ ...initVcpu, features: [0] })).code).toBe("EINVAL");
  });
});

describe("MP state, memory slots, IRQ lines, caps", () => {
  test("KVM_SET_MP_STATE: arm64 accepts RUNNABLE/STOPPED/SUSPENDED; RISC-V not SUSPENDED", () => {
    const a = arm().createVm().createVcpu(0);
    a.setMpState(KVM_MP_STATE_SUSPENDED);
    expect(a.getMpState()).toBe(KVM_MP_STATE_SUSPENDED);
    expect(errno(() => a.setMpState(KVM_MP_STATE_HALTED)).code).toBe("EINVAL");
    const r = new Kvm({ arch: "riscv64" }).createVm().createVcpu(0);
    expect(errno(() => r.setMpState(KVM_MP_STATE_SUSPENDED)).code).toBe("EINVAL");
  });

  test("KVM_SET_USER_MEMORY_REGION: misaligned / bad flags / other address space → EINVAL, overlap → EEXIST", () => {
    const vm = arm().createVm();
    vm.setUserMemoryRegion({ slot: 0, guestPhysAddr: 0x4000_0000, memorySize: 0x10_0000 });
    vm.setUserMemoryRegion({ slot: 0, guestPhysAddr: 0x4000_0000, memorySize: 0x10_0000 });
    expect(errno(() => vm.setUserMemoryRegion({ slot: 1, guestPhysAddr: 0x4008_0000, memorySize: 0x10_0000 })).code).toBe("EEXIST");
    expect(errno(() => vm.setUserMemoryRegion({ slot: 2, guestPhysAddr: 0x123, memorySize: 0x1000 })).code).toBe("EINVAL");
    expect(errno(() => vm.setUserMemoryRegion({ slot: 2, guestPhysAddr: 0, memorySize: 0x1000, flags: 4 })).code).toBe("EINVAL");
    expect(errno(() => vm.setUserMemoryRegion({ slot: 1 << 16, guestPhysAddr: 0, memorySize: 0x1000 })).code).toBe("EINVAL");
    expect(errno(() => vm.setUserMemoryRegion({ slot: 0, guestPhysAddr: 0x4000_0000, memorySize: 0x2000 })).code).toBe("EINVAL");
  });

  test("KVM_IRQ_LINE without a vgic: SPI → ENXIO, bad vCPU index or irq_id → EINVAL", () => {
    const vm = arm().createVm();
    vm.createVcpu(0);
    expect(errno(() => vm.irqLine((KVM_ARM_IRQ_TYPE_SPI << KVM_ARM_IRQ_TYPE_SHIFT) | 40, 1)).code).toBe("ENXIO");
    expect(errno(() => vm.irqLine((KVM_ARM_IRQ_TYPE_CPU << KVM_ARM_IRQ_TYPE_SHIFT) | (3 << 16), 1)).code).toBe("EINVAL");
    expect(errno(() => vm.irqLine(2, 1)).code).toBe("EINVAL");
    vm.irqLine(0, 1);
    expect(vm.vcpus[0]!.irqChip.hasPendingIrq()).toBe(true);
  });

  test("KVM_INTERRUPT: RISC-V only, SET/UNSET only; KVM_ENABLE_CAP: only HALT_POLL", () => {
    const r = new Kvm({ arch: "riscv64" }).createVm();
    const v = r.createVcpu(0);
    expect(errno(() => v.interrupt(5)).code).toBe("EINVAL");
    v.interrupt(KVM_INTERRUPT_SET);
    expect(errno(() => arm().createVm().createVcpu(0).interrupt(KVM_INTERRUPT_SET)).code).toBe("ENOTTY");
    expect(errno(() => r.enableCap(KVM_CAP_IMMEDIATE_EXIT)).code).toBe("EINVAL");
    r.enableCap(KVM_CAP_HALT_POLL, [50_000]);
    expect(r.haltPollMaxNs).toBe(50_000);
    expect(errno(() => r.irqLine(0, 1)).code).toBe("ENXIO");
  });
});

describe("remaining refusals", () => {
  test("VM attr read-back → EINVAL; KVM_ARM_PREFERRED_TARGET on RISC-V → ENOTTY; duplicate device model → ConfigError", () => {
    const kvm = arm();
    const vm = kvm.createVm();
    expect(errno(() => vm.getDeviceAttr({ group: KVM_ARM_VM_SMCCC_CTRL, attr: KVM_ARM_VM_SMCCC_FILTER })).code).toBe("EINVAL");
    expect(vm.armPreferredTarget().target).toBe(KVM_ARM_TARGET_GENERIC_V8);
    expect(errno(() => new Kvm({ arch: "riscv64" }).createVm().armPreferredTarget()).code).toBe("ENOTTY");
    kvm.registerDeviceType(KVM_DEV_TYPE_ARM_VGIC_V3, () => new AttrGroupTable("x", new Map()));
    expect(() => kvm.registerDeviceType(KVM_DEV_TYPE_ARM_VGIC_V3, () => new AttrGroupTable("x", new Map()))).toThrow(/already registered/);
  });
});
