/**
 * Board init of QEMU's riscv `virt` machine under KVM (hw/riscv/virt.c
 * virt_machine_init, virt_create_aia; target/riscv/kvm/kvm-cpu.c
 * kvm_riscv_aia_create, kvm_riscv_reset_vcpu), issuing the KVM ioctls in
 * QEMU's order:
 *
 * - accelerator: KVM_CREATE_VM (RISC-V ignores the type);
 * - board init: the RAM memslot; KVM_CREATE_VCPU for each hart; the
 *   in-kernel AIA (KVM_CREATE_DEVICE; read the default IMSIC mode and set
 *   `riscv-aia` if it differs; SRCS, IDS, the group bits and shift on a
 *   multi-socket machine, GUEST_BITS, the APLIC and per-hart IMSIC
 *   addresses, HART_BITS, the identity GSI routing of the APLIC's wires,
 *   CTRL_INIT); the NS16550A wired to APLIC source 10 (KVM_IRQ_LINE);
 * - machine-init-done: the device tree in RAM (riscv_compute_fdt_addr);
 * - reset: hart 0 RUNNABLE, the others STOPPED (kvm_riscv_sync_mpstate_to_kvm):
 *   SBI HSM hart_start brings them up.
 *
 * irqlab models the in-kernel AIA only: `aia=aplic-imsic` with
 * `kernel-irqchip=on`. QEMU's other riscv KVM configurations (a PLIC or
 * APLIC emulated in QEMU driving KVM_INTERRUPT, the split irqchip) are
 * refused with a message that says so.
 */

import {
  KVM_DEV_RISCV_AIA_ADDR_APLIC,
  KVM_DEV_RISCV_AIA_ADDR_IMSIC,
  KVM_DEV_RISCV_AIA_CONFIG_GROUP_BITS,
  KVM_DEV_RISCV_AIA_CONFIG_GROUP_SHIFT,
  KVM_DEV_RISCV_AIA_CONFIG_GUEST_BITS,
  KVM_DEV_RISCV_AIA_CONFIG_HART_BITS,
  KVM_DEV_RISCV_AIA_CONFIG_IDS,
  KVM_DEV_RISCV_AIA_CONFIG_MODE,
  KVM_DEV_RISCV_AIA_CONFIG_SRCS,
  KVM_DEV_RISCV_AIA_CTRL_INIT,
  KVM_DEV_RISCV_AIA_GRP_ADDR,
  KVM_DEV_RISCV_AIA_GRP_CONFIG,
  KVM_DEV_RISCV_AIA_GRP_CTRL,
  KVM_DEV_RISCV_AIA_MODE_AUTO,
  KVM_DEV_RISCV_AIA_MODE_EMUL,
  KVM_DEV_RISCV_AIA_MODE_HWACCEL,
  KVM_DEV_TYPE_RISCV_AIA,
  KVM_MP_STATE_RUNNABLE,
  KVM_MP_STATE_STOPPED,
  KVM_RISCV_SBI_EXT_DBCN,
  riscvSbiExtReg,
  type Device,
  type Vcpu,
  type Vm,
} from "@irqlab/kvm";
import { ConfigError } from "@irqlab/sim";
import { buildRiscvVirtFdt } from "../board/riscv-virt-fdt.js";
import { riscvVirtLayout, type RiscvKvmAiaConfig, type RiscvVirtLayout } from "../board/riscv-virt-layout.js";
import type { RiscvVirtMachineConfig } from "../config/machine-config.js";
import { Ns16550a } from "../devices/ns16550a.js";
import { PlatformBus } from "../wiring/platform-bus.js";
import type { KvmRoutes } from "../wiring/kvm-routes.js";
import type { Board, BoardContext, BoardCpuSlot } from "./board.js";

const hex = (n: number): string => `0x${n.toString(16)}`;
const MODE = { emul: KVM_DEV_RISCV_AIA_MODE_EMUL, hwaccel: KVM_DEV_RISCV_AIA_MODE_HWACCEL, auto: KVM_DEV_RISCV_AIA_MODE_AUTO } as const;
const MiB = 1024 * 1024;

/** The riscv `virt` board of one machine. */
export class RiscvVirtBoard implements Board {
  readonly layout: RiscvVirtLayout;
  readonly vm: Vm;
  readonly routes: KvmRoutes;
  readonly platformBus: PlatformBus;
  readonly pcie: Board["pcie"];
  readonly slots: readonly BoardCpuSlot[];
  #uart: Ns16550a | undefined;

  /** The NS16550A console (after board init). */
  get uart(): Ns16550a | undefined {
    return this.#uart;
  }
  readonly fdt: Uint8Array;
  readonly fdtAddress: number;
  readonly #ctx: BoardContext;
  readonly #aia: RiscvKvmAiaConfig;

  /** Accelerator phase: KVM_CREATE_VM. */
  constructor(ctx: BoardContext) {
    this.#ctx = ctx;
    const config = ctx.config;
    const m = config.machine as RiscvVirtMachineConfig;
    if (m.aia !== "aplic-imsic" || config.accel.kernelIrqchip !== "on") {
      throw new ConfigError(
        `irqlab models the riscv virt machine under KVM with the in-kernel AIA only (-M virt,aia=aplic-imsic with kernel-irqchip=on); aia=${m.aia}, kernel-irqchip=${config.accel.kernelIrqchip} would need QEMU's own ${m.aia === "none" ? "PLIC" : "APLIC"} emulation`,
      );
    }
    this.layout = riscvVirtLayout(config);
    const aia = this.layout.kvmAia;
    if (aia === undefined) throw new ConfigError("riscv virt: the layout has no in-kernel AIA");
    this.#aia = aia;
    this.vm = ctx.calls.call("KVM_CREATE_VM", "type=0", () => ctx.host.kvm.createVm(0, { name: ctx.name, timebaseHz: this.layout.timebaseFrequency }));
    this.routes = ctx.routes(this.vm);
    const pb = this.layout.platformBus;
    this.platformBus = new PlatformBus({ base: pb.region.base, size: pb.region.size, firstIrq: pb.firstIrq, numIrqs: pb.numIrqs });
    this.pcie = { ecam: this.layout.pcie.ecam, mmio: this.layout.pcie.mmio };
    this.slots = this.layout.hartIds.map((hart, index) => ({ index, vcpuId: index, archId: hart, present: index < config.smp.cpus }));
    this.fdt = buildRiscvVirtFdt(this.layout);
    // riscv_compute_fdt_addr(): the end of DRAM below 3 GiB, minus the blob, aligned down to 2 MiB.
    const ram = this.layout.ram;
    const end = ram.base < 3072 * MiB ? Math.min(ram.base + ram.size, 3072 * MiB) : ram.base + ram.size;
    this.fdtAddress = Math.floor((end - this.fdt.length) / (2 * MiB)) * 2 * MiB;
  }

  /** Board init (virt_machine_init): RAM, harts, the AIA, the UART. */
  init(): void {
    const { calls } = this.#ctx;
    const ram = this.layout.ram;
    calls.call("KVM_SET_USER_MEMORY_REGION", `slot=0 gpa=${hex(ram.base)} size=${hex(ram.size)}`, () => {
      this.vm.setUserMemoryRegion({ slot: 0, guestPhysAddr: ram.base, memorySize: ram.size });
    });
    for (const s of this.slots) if (s.present) this.createVcpu(s);
    this.#createAia();
    // create_fdt_uart / serial_mm_init: after the AIA, wired to APLIC source 10.
    const uart = new Ns16550a({
      tracer: this.#ctx.host.tracer,
      name: `${this.#ctx.name}/serial`,
      tx: this.#ctx.console,
      irq: (level) => {
        this.vm.irqLine(this.layout.uart.irq, level ? 1 : 0);
      },
      timers: this.#ctx.host.queue,
    });
    this.#uart = uart;
    this.#ctx.bus.map(this.layout.uart.region.base, this.layout.uart.region.size, uart, "serial");
  }

  createVcpu(slot: BoardCpuSlot): Vcpu {
    const existing = this.vm.vcpuById(slot.vcpuId);
    if (existing !== undefined) return existing;
    const vcpu = this.#ctx.calls.call("KVM_CREATE_VCPU", `id=${slot.vcpuId}`, () => this.vm.createVcpu(slot.vcpuId));
    // target/riscv/kvm/kvm-cpu.c kvm_arch_init_vcpu → kvm_vcpu_enable_sbi_dbcn: KVM offers DBCN only
    // once the VMM says it handles the forwarded calls (ONE_REG traffic is not in the call log).
    vcpu.setOneReg(riscvSbiExtReg(KVM_RISCV_SBI_EXT_DBCN), 1n);
    return vcpu;
  }

  bootRegs(slot: BoardCpuSlot): readonly number[] {
    // kvm_riscv_reset_vcpu: a0 = hart id, a1 = the device tree.
    return [slot.archId, this.fdtAddress];
  }

  machineInitDone(): void {
    this.vm.memory.write(this.fdtAddress, this.fdt);
  }

  reset(): void {
    this.#uart?.reset();
  }

  resetCpu(slot: BoardCpuSlot, vcpu: Vcpu): void {
    // kvm_arch_put_registers(KVM_PUT_RESET_STATE) → kvm_riscv_sync_mpstate_to_kvm: only the boot hart runs.
    const state = slot.index === 0 ? KVM_MP_STATE_RUNNABLE : KVM_MP_STATE_STOPPED;
    this.#ctx.calls.call("KVM_SET_MP_STATE", `vcpu=${vcpu.vcpuId} ${state === KVM_MP_STATE_RUNNABLE ? "RUNNABLE" : "STOPPED"}`, () => {
      vcpu.setMpState(state);
    });
  }

  #createAia(): void {
    const { calls } = this.#ctx;
    const a = this.#aia;
    const dev: Device = calls.call("KVM_CREATE_DEVICE", "type=KVM_DEV_TYPE_RISCV_AIA", () => this.vm.createDevice(KVM_DEV_TYPE_RISCV_AIA));
    const set = (group: number, attr: number, value: number, what: string): void => {
      calls.call("KVM_SET_DEVICE_ATTR", `aia ${what} ${hex(value)}`, () => {
        dev.setDeviceAttr({ group, attr, value });
      });
    };
    const C = KVM_DEV_RISCV_AIA_GRP_CONFIG;
    const current = calls.call("KVM_GET_DEVICE_ATTR", "aia CONFIG_MODE", () => Number(dev.getDeviceAttr({ group: C, attr: KVM_DEV_RISCV_AIA_CONFIG_MODE })));
    if (current !== MODE[a.mode]) set(C, KVM_DEV_RISCV_AIA_CONFIG_MODE, MODE[a.mode], "CONFIG_MODE");
    if (a.aplic !== undefined) set(C, KVM_DEV_RISCV_AIA_CONFIG_SRCS, a.aplic.nrSources, "CONFIG_SRCS");
    set(C, KVM_DEV_RISCV_AIA_CONFIG_IDS, a.nrIds, "CONFIG_IDS");
    if (a.group !== undefined) {
      set(C, KVM_DEV_RISCV_AIA_CONFIG_GROUP_BITS, a.group.bits, "CONFIG_GROUP_BITS");
      set(C, KVM_DEV_RISCV_AIA_CONFIG_GROUP_SHIFT, a.group.shift, "CONFIG_GROUP_SHIFT");
    }
    set(C, KVM_DEV_RISCV_AIA_CONFIG_GUEST_BITS, a.guestBits, "CONFIG_GUEST_BITS");
    if (a.aplic !== undefined) set(KVM_DEV_RISCV_AIA_GRP_ADDR, KVM_DEV_RISCV_AIA_ADDR_APLIC, a.aplic.base, "ADDR_APLIC");
    a.imsicAddrs.forEach((addr, hart) => {
      set(KVM_DEV_RISCV_AIA_GRP_ADDR, KVM_DEV_RISCV_AIA_ADDR_IMSIC(hart), addr, `ADDR_IMSIC(${hart})`);
    });
    set(C, KVM_DEV_RISCV_AIA_CONFIG_HART_BITS, a.hartBits, "CONFIG_HART_BITS");
    for (let i = 0; i < a.gsiPinRoutes; i++) this.routes.addIrqchipRoute(i, i);
    this.routes.commit();
    calls.call("KVM_SET_DEVICE_ATTR", "aia CTRL_INIT", () => {
      dev.setDeviceAttr({ group: KVM_DEV_RISCV_AIA_GRP_CTRL, attr: KVM_DEV_RISCV_AIA_CTRL_INIT });
    });
  }
}
