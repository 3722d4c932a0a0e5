/**
 * Plugging the RISC-V AIA into a Kvm: one {@link RiscvAiaHost} (the harts'
 * VS-files) and the KVM_DEV_TYPE_RISCV_AIA factory (aia_create in
 * arch/riscv/kvm/aia_device.c: EEXIST when the VM already has an irqchip,
 * EBUSY once a vCPU has run; ENODEV on a host that is not RISC-V).
 */

import { fail } from "../errno.js";
import type { Kvm } from "../kvm.js";
import { KVM_DEV_TYPE_RISCV_AIA } from "../uapi/device-types.js";
import { RiscvAiaHost, type RiscvAiaHostOptions } from "./aia-host.js";
import { RiscvAiaDevice } from "./aia-device.js";

/** Options of {@link registerRiscvAia} (the hart count comes from the Kvm's host). */
export type RegisterRiscvAiaOptions = Omit<RiscvAiaHostOptions, "harts">;

/**
 * Gives `kvm` (a riscv64 host) its AIA: GEILEN guest files per hart and the
 * KVM_DEV_TYPE_RISCV_AIA device type. Returns the host's VS-file state.
 */
export function registerRiscvAia(kvm: Kvm, options: RegisterRiscvAiaOptions): RiscvAiaHost {
  const host = new RiscvAiaHost({ ...options, harts: kvm.host.cpus.length, tracer: options.tracer ?? kvm.tracer });
  kvm.registerDeviceType(KVM_DEV_TYPE_RISCV_AIA, (vm, _type, test) => {
    const io = "KVM_CREATE_DEVICE";
    if (vm.arch !== "riscv64") fail("ENODEV", io, `${vm.name}: KVM_DEV_TYPE_RISCV_AIA needs a RISC-V host`);
    if (vm.irqchip !== undefined) fail("EEXIST", io, `${vm.name}: the VM already has an in-kernel irqchip`);
    if (vm.hasRun) fail("EBUSY", io, `${vm.name}: a vCPU has already run`);
    const dev = new RiscvAiaDevice(vm, host);
    if (!test) vm.installIrqChip(dev);
    return dev;
  });
  return host;
}
