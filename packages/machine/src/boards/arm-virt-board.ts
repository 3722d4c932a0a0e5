/**
 * Board init of QEMU's arm `virt` machine under KVM (hw/arm/virt.c
 * machvirt_init, virt_cpu_post_init, create_gic; hw/intc/arm_gicv3_kvm.c
 * kvm_arm_gicv3_realize; hw/intc/arm_gicv3_its_kvm.c kvm_arm_its_realize;
 * target/arm/kvm.c kvm_arch_init_vcpu, kvm_arm_machine_init_done), issuing
 * the KVM ioctls in QEMU's order:
 *
 * - accelerator: KVM_CREATE_VM with the IPA size the memory map needs;
 * - board init: the RAM memslot; KVM_CREATE_VCPU + KVM_ARM_VCPU_INIT for
 *   each present CPU (secondaries with KVM_ARM_VCPU_POWER_OFF: PSCI brings
 *   them up) — and, with x-cpu-hotplug=precreate, for every absent slot too,
 *   parked (Salil Mehta's RFC V5 05/30); the vgic-v3 (KVM_CREATE_DEVICE,
 *   NR_IRQS, CTRL_INIT unless x-vgic-init=first-run, the identity GSI
 *   routing of the SPIs) and the ITS (KVM_CREATE_DEVICE, CTRL_INIT); the
 *   vPMU of each CPU (PMU_V3_IRQ = PPI 7, PMU_V3_INIT; none with
 *   x-vgic-init=first-run, whose vgic KVM initialises only at the first
 *   KVM_RUN, after the vPMU would need it); the PL011;
 * - machine-init-done: the device addresses registered during realize
 *   (kvm_arm_register_device puts each at the head of a list that
 *   kvm_arm_machine_init_done walks: ITS, redistributor regions in index
 *   order, distributor), then the device tree in RAM.
 */

import {
  KVM_ARM_IRQ_TYPE_SHIFT,
  KVM_ARM_IRQ_TYPE_SPI,
  KVM_ARM_TARGET_GENERIC_V8,
  KVM_ARM_VCPU_PMU_V3,
  KVM_ARM_VCPU_PMU_V3_CTRL,
  KVM_ARM_VCPU_PMU_V3_INIT,
  KVM_ARM_VCPU_PMU_V3_IRQ,
  KVM_ARM_VCPU_POWER_OFF,
  KVM_ARM_VCPU_PSCI_0_2,
  KVM_DEV_ARM_ITS_CTRL_RESET,
  KVM_DEV_ARM_VGIC_CTRL_INIT,
  KVM_DEV_ARM_VGIC_GRP_ADDR,
  KVM_DEV_ARM_VGIC_GRP_CTRL,
  KVM_DEV_ARM_VGIC_GRP_NR_IRQS,
  KVM_DEV_TYPE_ARM_VGIC_ITS,
  KVM_DEV_TYPE_ARM_VGIC_V3,
  KVM_VGIC_ITS_ADDR_TYPE,
  KVM_VGIC_V3_ADDR_TYPE_DIST,
  KVM_VGIC_V3_ADDR_TYPE_REDIST_REGION,
  type Device,
  type Vcpu,
  type Vm,
} from "@irqlab/kvm";
import { ConfigError } from "@irqlab/sim";
import { armVirtLayout, type ArmVirtLayout } from "../board/arm-virt-layout.js";
import { buildArmVirtFdt } from "../board/arm-virt-fdt.js";
import type { ArmVirtMachineConfig } from "../config/machine-config.js";
import { Pl011 } from "../devices/pl011.js";
import { ARM_VIRT_IRQ_ACPI_GED } from "../board/arm-virt-memmap.js";
import { createVirtCpuHotplug, type VirtCpuHotplug, type VirtCpuHotplugOptions } from "../devices/cpu-hotplug-virt.js";
import { PlatformBus } from "../wiring/platform-bus.js";
import type { KvmRoutes } from "../wiring/kvm-routes.js";
import type { Board, BoardContext, BoardCpuSlot } from "./board.js";

const hex = (n: number | bigint): string => `0x${n.toString(16)}`;

/** A device address set at machine-init-done (kvm_arm_register_device → kvm_arm_set_device_addr). */
interface LateAddress {
  readonly dev: Device;
  readonly type: number;
  readonly value: number | bigint;
  readonly what: string;
}

/** The arm `virt` board of one machine. */
export class ArmVirtBoard implements Board {
  readonly layout: ArmVirtLayout;
  readonly vm: Vm;
  readonly routes: KvmRoutes;
  readonly platformBus: PlatformBus;
  readonly pcie: Board["pcie"];
  readonly slots: readonly BoardCpuSlot[];
  #uart: Pl011 | undefined;

  /** The PL011 console (after board init). */
  get uart(): Pl011 | undefined {
    return this.#uart;
  }
  readonly fdt: Uint8Array;
  readonly fdtAddress: number;
  readonly #ctx: BoardContext;
  readonly #m: ArmVirtMachineConfig;
  #its: Device | undefined;
  readonly #lateAddresses: LateAddress[] = [];

  /** Accelerator phase: KVM_CREATE_VM (kvm_init → kvm_arch_init / virt_kvm_type). */
  constructor(ctx: BoardContext) {
    this.#ctx = ctx;
    const config = ctx.config;
    this.#m = config.machine as ArmVirtMachineConfig;
    const precreate = this.#m.cpuHotplug === "precreate";
    // x-vgic-init=first-run is the vgic of 2014, before KVM's vPMU (Linux 4.6), which needs an initialised vgic:
    // KVM_ARM_VCPU_PMU_V3_INIT fails with ENODEV before it (pmu-emul.c kvm_arm_pmu_v3_init), so those CPUs have none.
    const firstRun = this.#m.vgicInit === "first-run";
    if (firstRun && config.cpuPmu === true) {
      throw new ConfigError("-cpu pmu=on needs the vgic initialised at board init: with x-vgic-init=first-run KVM_ARM_VCPU_PMU_V3_INIT fails with ENODEV");
    }
    const pmu = config.cpuPmu ?? !firstRun;
    this.layout = armVirtLayout(config, { redistributors: precreate ? config.smp.maxcpus : config.smp.cpus, pmu });
    const kvm = ctx.host.kvm;
    this.vm = ctx.calls.call("KVM_CREATE_VM", `type=${this.layout.ipaBits}`, () => kvm.createVm(this.layout.ipaBits, { name: ctx.name }));
    this.routes = ctx.routes(this.vm);
    const pb = this.layout.platformBus;
    this.platformBus = new PlatformBus({ base: pb.region.base, size: pb.region.size, firstIrq: pb.firstSpi, numIrqs: pb.numIrqs });
    this.pcie = { ecam: this.layout.pcie.ecam, mmio: this.layout.pcie.mmio };
    this.slots = this.layout.cpus.map((c) => ({ index: c.index, vcpuId: c.index, archId: c.mpidr, present: c.present }));
    this.fdt = buildArmVirtFdt(this.layout, {}, this.#m.cpuHotplug !== "off");
    this.fdtAddress = this.layout.ram.base;
  }

  /** Board init (machvirt_init): RAM, CPUs, GIC, ITS, vPMUs, UART. */
  init(): void {
    const { calls } = this.#ctx;
    const vm = this.vm;
    const ram = this.layout.ram;
    calls.call("KVM_SET_USER_MEMORY_REGION", `slot=0 gpa=${hex(ram.base)} size=${hex(ram.size)}`, () => {
      vm.setUserMemoryRegion({ slot: 0, guestPhysAddr: ram.base, memorySize: ram.size });
    });
    const created = this.#m.cpuHotplug === "precreate" ? this.slots : this.slots.filter((s) => s.present);
    for (const s of created) this.createVcpu(s);
    this.#createGic();
    if (this.layout.gic.its !== undefined) this.#createIts(this.layout.gic.its.base);
    for (const s of created) this.#pmuInit(vm.vcpuById(s.vcpuId)!);
    // create_uart(): after the GIC, its interrupt wired to SPI 1.
    const ctx = this.#ctx;
    const uart = new Pl011({
      tracer: ctx.host.tracer,
      name: `${ctx.name}/pl011`,
      tx: ctx.console,
      irq: (level) => {
        this.#spi(this.layout.uart.spi, level);
      },
    });
    this.#uart = uart;
    ctx.bus.map(this.layout.uart.region.base, this.layout.uart.region.size, uart, "pl011");
  }

  createVcpu(slot: BoardCpuSlot): Vcpu {
    const { calls } = this.#ctx;
    const existing = this.vm.vcpuById(slot.vcpuId);
    if (existing !== undefined) return existing; // kvm_create_vcpu: unparked
    const vcpu = calls.call("KVM_CREATE_VCPU", `id=${slot.vcpuId}`, () => this.vm.createVcpu(slot.vcpuId));
    this.resetCpu(slot, vcpu);
    return vcpu;
  }

  /**
   * kvm_arch_init_vcpu / kvm_arm_reset_vcpu: KVM_ARM_VCPU_INIT with PSCI 0.2,
   * the vPMU (where the board has one), and start-powered-off for every CPU but the boot one (virt sets
   * "start-powered-off" when PSCI brings secondaries up). Issued again at
   * every reset, which resets the vCPU in KVM.
   */
  resetCpu(slot: BoardCpuSlot, vcpu: Vcpu): void {
    let features = 1 << KVM_ARM_VCPU_PSCI_0_2;
    if (this.layout.pmuIntid !== undefined) features |= 1 << KVM_ARM_VCPU_PMU_V3;
    if (slot.index !== 0) features |= 1 << KVM_ARM_VCPU_POWER_OFF;
    this.#ctx.calls.call("KVM_ARM_VCPU_INIT", `vcpu=${slot.vcpuId} target=${KVM_ARM_TARGET_GENERIC_V8} features=${hex(features)}`, () => {
      vcpu.armVcpuInit({ target: KVM_ARM_TARGET_GENERIC_V8, features });
    });
  }

  bootRegs(slot: BoardCpuSlot): readonly number[] {
    return slot.index === 0 ? [this.fdtAddress, 0, 0, 0] : [];
  }

  /**
   * create_acpi_ged() with ACPI_GED_CPU_HOTPLUG_EVT (x-cpu-hotplug=precreate|naive):
   * the GED event selector and the CPU hotplug block on the MMIO bus, the GED
   * interrupt on SPI 9. Undefined with x-cpu-hotplug=off (upstream virt).
   */
  createCpuHotplug(hooks: Pick<VirtCpuHotplugOptions, "eject" | "ost" | "deviceId">): VirtCpuHotplug | undefined {
    if (this.#m.cpuHotplug === "off") return undefined;
    const ctx = this.#ctx;
    return createVirtCpuHotplug({
      ...hooks,
      bus: ctx.bus,
      tracer: ctx.host.tracer,
      name: ctx.name,
      archIds: this.slots.map((s) => s.archId),
      irq: (level) => {
        this.#spi(ARM_VIRT_IRQ_ACPI_GED, level);
      },
    });
  }

  /** A vCPU created after board init (hotplug): its vPMU as virt_cpu_post_init would have set it up. */
  postInitVcpu(vcpu: Vcpu): void {
    this.#pmuInit(vcpu);
  }

  machineInitDone(): void {
    const { calls } = this.#ctx;
    for (const a of this.#lateAddresses) {
      calls.call("KVM_SET_DEVICE_ATTR", `${a.what} GRP_ADDR ${a.type} ${hex(a.value)}`, () => {
        a.dev.setDeviceAttr({ group: KVM_DEV_ARM_VGIC_GRP_ADDR, attr: a.type, value: a.value });
      });
    }
    this.vm.memory.write(this.fdtAddress, this.fdt);
  }

  reset(): void {
    this.#uart?.reset();
    // kvm_arm_its_reset: KVM_DEV_ARM_ITS_CTRL_RESET (the vITS forgets its tables and mappings).
    const its = this.#its;
    if (its !== undefined) {
      this.#ctx.calls.call("KVM_SET_DEVICE_ATTR", "its GRP_CTRL CTRL_RESET", () => {
        its.setDeviceAttr({ group: KVM_DEV_ARM_VGIC_GRP_CTRL, attr: KVM_DEV_ARM_ITS_CTRL_RESET });
      });
    }
  }

  #createGic(): void {
    const { calls } = this.#ctx;
    const g = this.layout.gic;
    const dev = calls.call("KVM_CREATE_DEVICE", "type=KVM_DEV_TYPE_ARM_VGIC_V3", () => this.vm.createDevice(KVM_DEV_TYPE_ARM_VGIC_V3));
    calls.call("KVM_HAS_DEVICE_ATTR", "vgic-v3 GRP_ADDR REDIST_REGION", () => {
      dev.hasDeviceAttr({ group: KVM_DEV_ARM_VGIC_GRP_ADDR, attr: KVM_VGIC_V3_ADDR_TYPE_REDIST_REGION });
    });
    calls.call("KVM_SET_DEVICE_ATTR", `vgic-v3 GRP_NR_IRQS ${g.nrIrqs}`, () => {
      dev.setDeviceAttr({ group: KVM_DEV_ARM_VGIC_GRP_NR_IRQS, attr: 0, value: g.nrIrqs });
    });
    if (this.#m.vgicInit === "board-init") {
      calls.call("KVM_SET_DEVICE_ATTR", "vgic-v3 GRP_CTRL CTRL_INIT", () => {
        dev.setDeviceAttr({ group: KVM_DEV_ARM_VGIC_GRP_CTRL, attr: KVM_DEV_ARM_VGIC_CTRL_INIT });
      });
    }
    // kvm_arm_register_device inserts at the list head; regions are registered in reverse so that they come out in order.
    const late: LateAddress[] = [];
    for (const r of g.redistRegions) {
      const value = (BigInt(r.count) << 52n) | BigInt(r.base) | BigInt(r.index);
      late.push({ dev, type: KVM_VGIC_V3_ADDR_TYPE_REDIST_REGION, value, what: "vgic-v3" });
    }
    late.push({ dev, type: KVM_VGIC_V3_ADDR_TYPE_DIST, value: g.dist.base, what: "vgic-v3" });
    this.#lateAddresses.push(...late);
    // The SPIs: GSI n → irqchip 0 pin n (kvm_irqchip_add_irq_route for each, then commit).
    for (let i = 0; i < g.nrIrqs - 32; i++) this.routes.addIrqchipRoute(i, i);
    this.routes.commit();
  }

  #createIts(base: number): void {
    const { calls } = this.#ctx;
    const dev = calls.call("KVM_CREATE_DEVICE", "type=KVM_DEV_TYPE_ARM_VGIC_ITS", () => this.vm.createDevice(KVM_DEV_TYPE_ARM_VGIC_ITS));
    this.#its = dev;
    calls.call("KVM_SET_DEVICE_ATTR", "its GRP_CTRL CTRL_INIT", () => {
      dev.setDeviceAttr({ group: KVM_DEV_ARM_VGIC_GRP_CTRL, attr: KVM_DEV_ARM_VGIC_CTRL_INIT });
    });
    // Registered after the GIC's addresses, so at the head of the list: set first.
    this.#lateAddresses.unshift({ dev, type: KVM_VGIC_ITS_ADDR_TYPE, value: base, what: "its" });
  }

  #pmuInit(vcpu: Vcpu): void {
    const ppi = this.layout.pmuIntid;
    if (ppi === undefined) return;
    const { calls } = this.#ctx;
    calls.call("KVM_SET_DEVICE_ATTR", `vcpu=${vcpu.vcpuId} PMU_V3_CTRL PMU_V3_IRQ ${ppi}`, () => {
      vcpu.setDeviceAttr({ group: KVM_ARM_VCPU_PMU_V3_CTRL, attr: KVM_ARM_VCPU_PMU_V3_IRQ, value: ppi });
    });
    calls.call("KVM_SET_DEVICE_ATTR", `vcpu=${vcpu.vcpuId} PMU_V3_CTRL PMU_V3_INIT`, () => {
      vcpu.setDeviceAttr({ group: KVM_ARM_VCPU_PMU_V3_CTRL, attr: KVM_ARM_VCPU_PMU_V3_INIT });
    });
  }

  /** A wired device interrupt to SPI `spi` (relative to 32): KVM_IRQ_LINE (kvm_arm_gicv3_set_irq). */
  #spi(spi: number, level: boolean): void {
    const irq = (KVM_ARM_IRQ_TYPE_SPI << KVM_ARM_IRQ_TYPE_SHIFT) | (spi + 32);
    this.vm.irqLine(irq, level ? 1 : 0);
  }
}
