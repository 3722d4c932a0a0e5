/**
 * The KVM ioctls a machine issues while it initialises, phase by phase,
 * against the sequence QEMU issues for the same command line (the
 * interrupt-controller, vCPU and memory ioctls; QEMU's capability checks and
 * ONE_REG traffic are not modelled). QEMU's order, from its sources:
 * - accel/kvm/kvm-all.c kvm_init: KVM_CREATE_VM (arm: virt_kvm_type → the IPA size);
 * - hw/arm/virt.c machvirt_init: RAM, the CPUs (qemu_init_vcpu → kvm_init_vcpu:
 *   KVM_CREATE_VCPU, kvm_arch_init_vcpu: KVM_ARM_VCPU_INIT), create_gic
 *   (hw/intc/arm_gicv3_kvm.c kvm_arm_gicv3_realize: CREATE_DEVICE,
 *   HAS_DEVICE_ATTR REDIST_REGION, NR_IRQS, CTRL_INIT, the SPI routes; then
 *   arm_gicv3_its_kvm.c kvm_arm_its_realize: CREATE_DEVICE, CTRL_INIT),
 *   virt_cpu_post_init (kvm_arm_pmu_set_irq, kvm_arm_pmu_init);
 * - target/arm/kvm.c kvm_arm_machine_init_done: the registered addresses,
 *   list head first (ITS, redistributor regions, distributor);
 * - qemu_system_reset → kvm_arm_reset_vcpu: KVM_ARM_VCPU_INIT again;
 * - target/riscv/kvm/kvm-cpu.c kvm_riscv_aia_create and
 *   kvm_riscv_sync_mpstate_to_kvm for riscv64.
 */
import { parseFdt } from "@irqlab/fdt";
import { describe, expect, test } from "vitest";
import { Machine } from "../src/machine.js";
import { armConfig, riscvConfig } from "./machine-config-fixture.js";

describe("init order at the KVM boundary", () => {
  test("arm64 -M virt -smp 2: QEMU's sequence, phase by phase", () => {
    const m = Machine.create({ config: armConfig({ cpus: 2 }) });
    const byPhase = (p: string): string[] => m.calls.calls.filter((c) => c.phase === p).map((c) => `${c.ioctl} ${c.arg}`);
    expect(byPhase("PHASE_MACHINE_CREATED")).toEqual(["KVM_CREATE_VM type=40"]);
    expect(byPhase("PHASE_LATE_BACKENDS_CREATED")).toEqual([
      "KVM_SET_USER_MEMORY_REGION slot=0 gpa=0x40000000 size=0x8000000",
      "KVM_CREATE_VCPU id=0",
      "KVM_ARM_VCPU_INIT vcpu=0 target=5 features=0xc", // PSCI_0_2 (bit 2) | PMU_V3 (bit 3)
      "KVM_CREATE_VCPU id=1",
      "KVM_ARM_VCPU_INIT vcpu=1 target=5 features=0xd", // + POWER_OFF (bit 0: start-powered-off)
      "KVM_CREATE_DEVICE type=KVM_DEV_TYPE_ARM_VGIC_V3",
      "KVM_HAS_DEVICE_ATTR vgic-v3 GRP_ADDR REDIST_REGION",
      "KVM_SET_DEVICE_ATTR vgic-v3 GRP_NR_IRQS 288",
      "KVM_SET_DEVICE_ATTR vgic-v3 GRP_CTRL CTRL_INIT",
      "KVM_SET_GSI_ROUTING 256 irqchip + 0 msi routes",
      "KVM_CREATE_DEVICE type=KVM_DEV_TYPE_ARM_VGIC_ITS",
      "KVM_SET_DEVICE_ATTR its GRP_CTRL CTRL_INIT",
      "KVM_SET_DEVICE_ATTR vcpu=0 PMU_V3_CTRL PMU_V3_IRQ 23",
      "KVM_SET_DEVICE_ATTR vcpu=0 PMU_V3_CTRL PMU_V3_INIT",
      "KVM_SET_DEVICE_ATTR vcpu=1 PMU_V3_CTRL PMU_V3_IRQ 23",
      "KVM_SET_DEVICE_ATTR vcpu=1 PMU_V3_CTRL PMU_V3_INIT",
    ]);
    expect(byPhase("PHASE_MACHINE_READY")).toEqual([
      "KVM_SET_DEVICE_ATTR its GRP_ADDR 4 0x8080000", // KVM_VGIC_ITS_ADDR_TYPE
      "KVM_SET_DEVICE_ATTR vgic-v3 GRP_ADDR 5 0x200000080a0000", // REDIST_REGION: count 2 << 52 | base | index 0
      "KVM_SET_DEVICE_ATTR vgic-v3 GRP_ADDR 2 0x8000000", // KVM_VGIC_V3_ADDR_TYPE_DIST
      "KVM_SET_DEVICE_ATTR its GRP_CTRL CTRL_RESET",
      "KVM_ARM_VCPU_INIT vcpu=0 target=5 features=0xc",
      "KVM_ARM_VCPU_INIT vcpu=1 target=5 features=0xd",
    ]);
    expect(m.phase).toBe("PHASE_MACHINE_READY");
    expect(m.runState).toBe("running");
  });

  test("arm64 x-vgic-init=first-run: no CTRL_INIT in board init; KVM initialises the vgic at the first KVM_RUN", () => {
    const m = Machine.create({ config: armConfig({ vgicInit: "first-run" }) });
    expect(m.calls.lines()).not.toContain("KVM_SET_DEVICE_ATTR vgic-v3 GRP_CTRL CTRL_INIT");
    // That vgic predates KVM's vPMU, whose INIT needs an initialised vgic (pmu-emul.c kvm_arm_pmu_v3_init:
    // ENODEV): the CPUs have none, as a device tree without a /pmu node tells the guest.
    expect(m.calls.lines()).toContain("KVM_ARM_VCPU_INIT vcpu=0 target=5 features=0x4");
    expect(m.calls.lines().filter((l) => l.includes("PMU_V3"))).toEqual([]);
    expect(parseFdt(m.fdt).findNode("/pmu")).toBeUndefined();
    expect(parseFdt(Machine.create({ config: armConfig({}) }).fdt).findNode("/pmu")).toBeDefined();
    m.run(10_000);
    expect(m.vm.hasRun).toBe(true);
  });

  test("arm64 -cpu host,pmu=off: no vPMU (kvm_arch_init_vcpu leaves KVM_ARM_VCPU_PMU_V3 out, virt_cpu_post_init and fdt_add_pmu_nodes skip it)", () => {
    const m = Machine.create({ config: { ...armConfig({ cpus: 2 }), cpuPmu: false } });
    expect(m.calls.lines()).toContain("KVM_ARM_VCPU_INIT vcpu=1 target=5 features=0x5"); // POWER_OFF | PSCI_0_2
    expect(m.calls.lines().filter((l) => l.includes("PMU_V3"))).toEqual([]);
    expect(parseFdt(m.fdt).findNode("/pmu")).toBeUndefined();
    m.run(10_000);
    expect(m.vm.hasRun).toBe(true);
    // x-vgic-init=first-run CPUs cannot have one: their KVM_ARM_VCPU_PMU_V3_INIT would come before vgic init.
    expect(() => Machine.create({ config: { ...armConfig({ vgicInit: "first-run" }), cpuPmu: true } })).toThrow(/pmu=on needs the vgic initialised at board init/);
  });

  test("riscv64 -M virt,aia=aplic-imsic -accel kvm,riscv-aia=hwaccel -smp 2: kvm_riscv_aia_create's sequence", () => {
    const m = Machine.create({ config: riscvConfig({ cpus: 2, riscvAia: "hwaccel" }) });
    const lines = m.calls.lines();
    expect(lines.slice(0, 4)).toEqual(["KVM_CREATE_VM type=0", "KVM_SET_USER_MEMORY_REGION slot=0 gpa=0x80000000 size=0x8000000", "KVM_CREATE_VCPU id=0", "KVM_CREATE_VCPU id=1"]);
    const aia = lines.slice(lines.indexOf("KVM_CREATE_DEVICE type=KVM_DEV_TYPE_RISCV_AIA"));
    expect(aia.slice(0, 13)).toEqual([
      "KVM_CREATE_DEVICE type=KVM_DEV_TYPE_RISCV_AIA",
      "KVM_GET_DEVICE_ATTR aia CONFIG_MODE",
      "KVM_SET_DEVICE_ATTR aia CONFIG_MODE 0x1", // the host default (auto) differs from hwaccel
      "KVM_SET_DEVICE_ATTR aia CONFIG_SRCS 0x60",
      "KVM_SET_DEVICE_ATTR aia CONFIG_IDS 0xff",
      "KVM_SET_DEVICE_ATTR aia CONFIG_GUEST_BITS 0x0",
      "KVM_SET_DEVICE_ATTR aia ADDR_APLIC 0xd000000",
      "KVM_SET_DEVICE_ATTR aia ADDR_IMSIC(0) 0x28000000",
      "KVM_SET_DEVICE_ATTR aia ADDR_IMSIC(1) 0x28001000",
      "KVM_SET_DEVICE_ATTR aia CONFIG_HART_BITS 0x1",
      "KVM_SET_GSI_ROUTING 97 irqchip + 0 msi routes",
      "KVM_SET_DEVICE_ATTR aia CTRL_INIT",
      "KVM_SET_MP_STATE vcpu=0 RUNNABLE",
    ]);
    expect(aia.at(-1)).toBe("KVM_SET_MP_STATE vcpu=1 STOPPED");
  });

  test("riscv64 refuses the configurations it does not model, saying why", () => {
    const c = riscvConfig();
    expect(() => Machine.create({ config: { ...c, machine: { type: "virt", aia: "none", aiaGuests: 0 } } })).toThrow(/in-kernel AIA only.*PLIC/);
  });
});
