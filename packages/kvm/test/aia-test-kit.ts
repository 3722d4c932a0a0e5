/**
 * Test helpers for the RISC-V AIA (tests and benchmarks only; not part of
 * the package): a VM set up the way QEMU's
 * kvm_riscv_aia_create() does it (MODE, SRCS, IDS, bits, APLIC and per-vCPU
 * IMSIC addresses, CTRL_INIT; QEMU target/riscv/kvm/kvm-cpu.c), and a guest that enables
 * one identity in its IMSIC and claims interrupts through stopei.
 */

import { op, type GuestProgram } from "@irqlab/sim";
import type { Device } from "../src/device.js";
import type { Kvm } from "../src/kvm.js";
import { CSR_SIE, IRQ_S_EXT } from "../src/uapi/sbi.js";
import { KVM_DEV_TYPE_RISCV_AIA } from "../src/uapi/device-types.js";
import type { Vcpu } from "../src/vcpu.js";
import type { GuestImage } from "../src/vcpu-core.js";
import type { Vm } from "../src/vm.js";
import type { RiscvAiaDevice } from "../src/riscv-aia/aia-device.js";
import * as U from "../src/riscv-aia/aia-uapi.js";
import { CSR_SIREG, CSR_SISELECT, CSR_STOPEI } from "../src/riscv-aia/aia-vcpu.js";

/** QEMU virt: APLIC-S base. */
export const VIRT_APLIC_S = 0x0d00_0000;
/** QEMU virt: IMSIC-S base. */
export const VIRT_IMSIC_S = 0x2800_0000;

/** A riscv64 VM with the in-kernel AIA initialised. */
export interface AiaVm {
  readonly vm: Vm;
  readonly vcpus: Vcpu[];
  readonly device: Device;
  readonly aia: RiscvAiaDevice;
}

/** Options of {@link createAiaVm}. */
export interface AiaVmOptions {
  readonly vcpus: number;
  /** KVM_DEV_RISCV_AIA_MODE_* (default: the device's default). */
  readonly mode?: number;
  /** APLIC sources (default 0: no APLIC). */
  readonly sources?: number;
  /** IMSIC identities (default 255 when the host allows it). */
  readonly ids?: number;
  /** IMSIC base (default QEMU virt's IMSIC-S). */
  readonly imsicBase?: number;
  readonly name?: string;
}

/** Creates a VM, its vCPUs and its AIA, in QEMU's order. */
export function createAiaVm(kvm: Kvm, o: AiaVmOptions): AiaVm {
  const vm = kvm.createVm(0, o.name === undefined ? {} : { name: o.name });
  const vcpus: Vcpu[] = [];
  for (let i = 0; i < o.vcpus; i++) vcpus.push(vm.createVcpu(i));
  const device = vm.createDevice(KVM_DEV_TYPE_RISCV_AIA);
  const set = (group: number, attr: number, value: number | bigint): void => {
    device.setDeviceAttr({ group, attr, value });
  };
  const C = U.KVM_DEV_RISCV_AIA_GRP_CONFIG;
  if (o.mode !== undefined) set(C, U.KVM_DEV_RISCV_AIA_CONFIG_MODE, o.mode);
  set(C, U.KVM_DEV_RISCV_AIA_CONFIG_SRCS, o.sources ?? 0);
  if (o.ids !== undefined) set(C, U.KVM_DEV_RISCV_AIA_CONFIG_IDS, o.ids);
  const hartBits = Math.max(1, Math.ceil(Math.log2(Math.max(1, o.vcpus))));
  set(C, U.KVM_DEV_RISCV_AIA_CONFIG_HART_BITS, hartBits);
  if ((o.sources ?? 0) > 0) set(U.KVM_DEV_RISCV_AIA_GRP_ADDR, U.KVM_DEV_RISCV_AIA_ADDR_APLIC, VIRT_APLIC_S);
  const base = o.imsicBase ?? VIRT_IMSIC_S;
  for (let i = 0; i < o.vcpus; i++) set(U.KVM_DEV_RISCV_AIA_GRP_ADDR, U.KVM_DEV_RISCV_AIA_ADDR_IMSIC(i), base + i * 0x1000);
  set(U.KVM_DEV_RISCV_AIA_GRP_CTRL, U.KVM_DEV_RISCV_AIA_CTRL_INIT, 0);
  return { vm, vcpus, device, aia: vm.irqchip as RiscvAiaDevice };
}

/**
 * A guest that sets eidelivery = 1, enables identity `id` (eie), enables
 * sie.SEIE, unmasks and waits; its vector claims with `csrrw stopei` and
 * pushes the claimed identity onto `claimed`.
 */
export function claimingGuest(ids: readonly number[], claimed: number[]): GuestImage {
  return {
    main: function* (): GuestProgram {
      yield op.csrWrite(CSR_SISELECT, 0x70);
      yield op.csrWrite(CSR_SIREG, 1);
      for (const id of ids) {
        yield op.csrWrite(CSR_SISELECT, 0xc0 + 2 * Math.floor(id / 64));
        if (id % 64 < 32) yield op.csrSet(CSR_SIREG, (1 << (id % 32)) >>> 0);
        else yield { kind: "csr", op: "csrrs", csr: CSR_SIREG, value: 0, hi: (1 << (id % 32)) >>> 0 };
      }
      yield op.csrSet(CSR_SIE, 1 << IRQ_S_EXT);
      yield op.unmask();
      for (;;) yield op.wfi();
    },
    vector: function* (): GuestProgram {
      for (;;) {
        const r = yield op.csrWrite(CSR_STOPEI, 0);
        const id = r.value >>> 16;
        if (id === 0) return;
        claimed.push(id);
      }
    },
  };
}
