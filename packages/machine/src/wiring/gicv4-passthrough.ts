/**
 * GICv4.1 direct injection for passed-through functions, when the machine
 * runs with `-accel kvm,x-gicv4=BEHAVIOUR` (irqlab's stand-in for a host
 * with a GICv4.1 ITS and kvm-arm.vgic_v4_enable=1 running that kernel):
 *
 * - the host's physical ITS with one vPE per vCPU (@irqlab/kvm HostGicv4);
 *   each vfio-pci function's MSI-X vectors are host LPIs on it, requested by
 *   VFIO (vfio_msihandler signals the vector's trigger);
 * - KVM's vgic-v4 enabled on the VM with that kernel's
 *   kvm_vgic_v4_set_forwarding / unset_forwarding (enableVgicV4), so when
 *   an irqfd meets the vector's IRQ-bypass producer the host LPI may become
 *   a vLPI of the guest's vPE.
 *
 * A vector the device raises is its MSI write reaching the host ITS
 * ({@link Gicv4Passthrough.raise}): a forwarded one is made pending in the
 * vPE directly; any other is a host LPI whose handler does what VFIO does
 * (VfioPciFunction.hostInterrupt). The host ITS's mappings are not touched
 * by a system reset: only KVM's unset_forwarding unmaps a vLPI.
 */

import { enableVgicV4, HostGicv4, type HostMsiVector, type VgicV4Forwarding, type Vm } from "@irqlab/kvm";
import { ConfigError } from "@irqlab/sim";
import type { Gicv4Mode } from "../config/machine-config.js";

/** The host's GICv4.1 ITS and the VM's vgic-v4 forwarding. */
export class Gicv4Passthrough {
  readonly host: HostGicv4;
  readonly forwarding: VgicV4Forwarding;
  #nextDeviceId = 1;

  /** @throws ConfigError when the VM has no vITS (GICv4 forwards only MSIs through an ITS). */
  constructor(vm: Vm, behaviour: Exclude<Gicv4Mode, "off">, vcpus: number) {
    this.host = new HostGicv4({ vpes: vcpus, tracer: vm.tracer });
    try {
      this.forwarding = enableVgicV4(vm, { host: this.host, behaviour });
    } catch (e) {
      if (e instanceof ConfigError) throw new ConfigError(`x-gicv4=${behaviour} needs the in-kernel ITS (-M virt,its=on): ${e.message}`);
      throw e;
    }
  }

  /** A passed-through function with `nvec` MSI-X vectors: one host LPI each, with `handler(k)` as vector k's host handler. */
  addFunction(nvec: number, handler: (vector: number) => void): HostMsiVector[] {
    const vectors = this.host.addDevice(this.#nextDeviceId++, nvec);
    vectors.forEach((v, k) => {
      this.host.requestIrq(v.irq, () => {
        handler(k);
      });
    });
    return vectors;
  }

  /** The device raises `vector`: its MSI goes to the host ITS. Returns the ITS_MSI_* outcome. */
  raise(vector: HostMsiVector): number {
    return this.host.fire(vector.irq);
  }
}
