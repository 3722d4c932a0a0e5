/**
 * The arm64 vPMU's configuration: the vCPU device attributes of group
 * KVM_ARM_VCPU_PMU_V3_CTRL and the check at a vCPU's first KVM_RUN, as
 * arch/arm64/kvm/pmu-emul.c has them (kvm_arm_pmu_v3_set_attr, _get_attr,
 * _has_attr, kvm_arm_pmu_v3_init, kvm_arm_pmu_v3_set_pmu,
 * kvm_arm_pmu_v3_enable), with the VM-wide state they share (kvm->arch.arm_pmu,
 * pmu_filter, supported_cpus).
 *
 * KVM_SET_DEVICE_ATTR, in Linux's order:
 * - ENODEV unless the vCPU was initialised with KVM_ARM_VCPU_PMU_V3; EBUSY for
 *   every attribute once the vPMU is created (INIT done). The first attribute
 *   picks the VM's default host PMU (kvm_pmu_probe_armpmu: the PMU of the CPU
 *   the ioctl runs on; the model's VMM thread is taken to run on host CPU 0).
 * - IRQ: EINVAL without an in-kernel irqchip; EFAULT for a value that is not
 *   an int; EINVAL unless a PPI (16..31) or an SPI (32..1019); EINVAL unless
 *   every vCPU's vPMU uses the same PPI, or each an SPI of its own
 *   (pmu_irq_is_valid); EBUSY once this vCPU's is set.
 * - FILTER (struct kvm_pmu_event_filter): EINVAL for a range past the events
 *   the host's PMUv3 numbers (65536 on the Armv8.2 host of the cost model,
 *   whose PMU is PMUv3p1) or an action other than ALLOW or DENY; EBUSY once
 *   the VM has run. The model counts no events: it checks a filter and keeps
 *   that the VM has one, which SET_PMU then looks at.
 * - SET_PMU: ENXIO for a PMU no host CPU has; EBUSY once the VM has run, or
 *   when a filter was set under another PMU. The VM then runs only on that
 *   PMU's CPUs (KVM_EXIT_FAIL_ENTRY elsewhere).
 * - INIT (kvm_arm_pmu_v3_init), with an in-kernel vgic: ENODEV before vgic
 *   init, ENXIO without an IRQ, then the vgic's claim of the line for the
 *   vPMU (kvm_vgic_set_owner: EINVAL for an SPI beyond NR_IRQS); from then
 *   on userspace's injections leave that line alone. Without one, INIT takes
 *   nothing.
 * - Any other attribute: ENXIO.
 *
 * KVM_GET_DEVICE_ATTR reads the IRQ only: EINVAL without an in-kernel
 * irqchip, ENODEV without the feature, ENXIO while unset; ENXIO for any other
 * attribute. KVM_HAS_DEVICE_ATTR: 0 for IRQ, INIT, FILTER and SET_PMU on a vCPU
 * with the feature, else ENXIO. At its first KVM_RUN a vCPU with the feature
 * fails with EINVAL unless its vPMU was created.
 */

import { GIC_FIRST_PPI, GIC_FIRST_SPI, GIC_MAX_SPI } from "@irqlab/gic";
import type { DeviceAttr } from "./device.js";
import {
  KVM_ARM_VCPU_PMU_V3_FILTER,
  KVM_ARM_VCPU_PMU_V3_INIT,
  KVM_ARM_VCPU_PMU_V3_IRQ,
  KVM_ARM_VCPU_PMU_V3_SET_PMU,
  KVM_PMU_EVENT_ALLOW,
  KVM_PMU_EVENT_DENY,
} from "./uapi/device-types.js";
import { VgicV3, pmuOwner } from "./vgic/vgic-v3.js";
import type { Vm } from "./vm.js";

/** struct kvm_pmu_event_filter (KVM_ARM_VCPU_PMU_V3_FILTER): events baseEvent..baseEvent+nevents-1. */
export interface KvmPmuEventFilter {
  /** __u16 base_event. */
  readonly baseEvent: number;
  /** __u16 nevents. */
  readonly nevents: number;
  /** KVM_PMU_EVENT_ALLOW or KVM_PMU_EVENT_DENY. */
  readonly action: number;
}

/** The event numbers a filter may cover: __kvm_pmu_event_mask(PMUv3p1) + 1 (16-bit event numbers). */
const PMU_EVENTS = 0x10000;

/** kvm_arm_pmu_irq_initialized: irq_num is at least VGIC_NR_SGIS once set. */
const NO_IRQ = 0;

/** One vCPU's struct kvm_pmu: its interrupt and whether INIT created it. */
interface VcpuPmuState {
  irq: number;
  created: boolean;
}

/** What of a vCPU the vPMU's attributes look at. */
export interface PmuVcpu {
  readonly vcpuId: number;
  /** Whether KVM_ARM_VCPU_INIT set KVM_ARM_VCPU_PMU_V3 (kvm_vcpu_has_pmu). */
  readonly hasPmu: boolean;
}

/** The vPMU configuration of one arm64 VM and its vCPUs. */
export class VmPmu {
  /** kvm->arch.arm_pmu: the host PMU (its perf type) the VM's vPMUs use, -1 until the first attribute picks one. */
  #armPmu = -1;
  /** kvm->arch.pmu_filter is allocated. */
  #filtered = false;
  readonly #vcpus = new Map<number, VcpuPmuState>();

  constructor(readonly vm: Vm) {}

  /** KVM_SET_DEVICE_ATTR of group KVM_ARM_VCPU_PMU_V3_CTRL on `vcpu`. */
  setAttr(vcpu: PmuVcpu, a: DeviceAttr): void {
    const io = "KVM_SET_DEVICE_ATTR";
    const vm: Vm = this.vm;
    if (!vcpu.hasPmu) vm.fail("ENODEV", io, `vCPU ${vcpu.vcpuId} was not initialised with KVM_ARM_VCPU_PMU_V3`);
    const pmu = this.#state(vcpu);
    if (pmu.created) vm.fail("EBUSY", io, `vCPU ${vcpu.vcpuId}: the vPMU is already initialised`);
    if (this.#armPmu < 0) this.#armPmu = vm.host.cpus[0]!.pmu;
    const v = a.value;
    switch (Number(a.attr)) {
      case KVM_ARM_VCPU_PMU_V3_IRQ: {
        if (vm.irqchip === undefined) vm.fail("EINVAL", io, "a vPMU interrupt needs an in-kernel irqchip");
        if (typeof v !== "number" || !Number.isInteger(v)) vm.fail("EFAULT", io, `PMU interrupt ${String(v)} cannot be read as an int`);
        // irq_is_ppi, irq_is_spi (include/kvm/arm_vgic.h).
        const ppi = v >= GIC_FIRST_PPI && v < GIC_FIRST_SPI;
        if (!ppi && !(v >= GIC_FIRST_SPI && v <= GIC_MAX_SPI)) vm.fail("EINVAL", io, `PMU interrupt ${v} is neither a PPI (16..31) nor an SPI (32..1019)`);
        this.#checkIrqUnique(v, ppi, io);
        if (pmu.irq !== NO_IRQ) vm.fail("EBUSY", io, `vCPU ${vcpu.vcpuId}: the PMU interrupt is already ${pmu.irq}`);
        pmu.irq = v;
        return;
      }
      case KVM_ARM_VCPU_PMU_V3_FILTER: {
        if (!isEventFilter(v)) vm.fail("EFAULT", io, "the value cannot be read as a struct kvm_pmu_event_filter ({ baseEvent, nevents: __u16; action: __u8 })");
        const f = v;
        if (f.baseEvent + f.nevents > PMU_EVENTS) vm.fail("EINVAL", io, `events ${f.baseEvent}+${f.nevents} go past the ${PMU_EVENTS} the host's PMU numbers`);
        if (f.action !== KVM_PMU_EVENT_ALLOW && f.action !== KVM_PMU_EVENT_DENY) vm.fail("EINVAL", io, `filter action ${f.action} is neither KVM_PMU_EVENT_ALLOW nor _DENY`);
        if (vm.hasRun) vm.fail("EBUSY", io, "the VM has already run");
        this.#filtered = true;
        return;
      }
      case KVM_ARM_VCPU_PMU_V3_SET_PMU: {
        if (typeof v !== "number" || !Number.isInteger(v)) vm.fail("EFAULT", io, `PMU ${String(v)} cannot be read as an int`);
        if (!vm.host.cpus.some((c) => c.pmu === v)) vm.fail("ENXIO", io, `no host PMU ${v}`);
        if (vm.hasRun) vm.fail("EBUSY", io, "the VM has already run");
        if (this.#filtered && this.#armPmu !== v) vm.fail("EBUSY", io, `an event filter was set under host PMU ${this.#armPmu}`);
        this.#armPmu = v;
        vm.setSupportedPmu(v);
        return;
      }
      case KVM_ARM_VCPU_PMU_V3_INIT:
        this.#init(vcpu, pmu, io);
        return;
      default:
        vm.fail("ENXIO", io, `unknown PMUv3 attribute ${a.attr}`);
    }
  }

  /** KVM_GET_DEVICE_ATTR of group KVM_ARM_VCPU_PMU_V3_CTRL: the PMU interrupt. */
  getAttr(vcpu: PmuVcpu, a: DeviceAttr): number {
    const io = "KVM_GET_DEVICE_ATTR";
    const vm: Vm = this.vm;
    if (Number(a.attr) !== KVM_ARM_VCPU_PMU_V3_IRQ) vm.fail("ENXIO", io, `PMUv3 attribute ${a.attr} cannot be read`);
    if (vm.irqchip === undefined) vm.fail("EINVAL", io, "a vPMU interrupt needs an in-kernel irqchip");
    if (!vcpu.hasPmu) vm.fail("ENODEV", io, `vCPU ${vcpu.vcpuId} was not initialised with KVM_ARM_VCPU_PMU_V3`);
    const irq = this.#vcpus.get(vcpu.vcpuId)?.irq ?? NO_IRQ;
    if (irq === NO_IRQ) vm.fail("ENXIO", io, `vCPU ${vcpu.vcpuId}: no PMU interrupt is set`);
    return irq;
  }

  /** KVM_HAS_DEVICE_ATTR of group KVM_ARM_VCPU_PMU_V3_CTRL. */
  hasAttr(vcpu: PmuVcpu, a: DeviceAttr): void {
    const attr = Number(a.attr);
    const known = attr === KVM_ARM_VCPU_PMU_V3_IRQ || attr === KVM_ARM_VCPU_PMU_V3_INIT || attr === KVM_ARM_VCPU_PMU_V3_FILTER || attr === KVM_ARM_VCPU_PMU_V3_SET_PMU;
    if (!known || !vcpu.hasPmu) this.vm.fail("ENXIO", "KVM_HAS_DEVICE_ATTR", `PMUv3 attribute ${a.attr}${known ? ` needs a vCPU with KVM_ARM_VCPU_PMU_V3` : " is unknown"}`);
  }

  /** kvm_arm_pmu_v3_enable at the first KVM_RUN of `vcpu`, which has the feature: EINVAL for a vPMU that INIT did not create. */
  enable(vcpu: PmuVcpu): void {
    if (this.#vcpus.get(vcpu.vcpuId)?.created !== true) {
      this.vm.fail("EINVAL", "KVM_RUN", `vCPU ${vcpu.vcpuId} has KVM_ARM_VCPU_PMU_V3 but no KVM_ARM_VCPU_PMU_V3_INIT`);
    }
  }

  #state(vcpu: PmuVcpu): VcpuPmuState {
    let s = this.#vcpus.get(vcpu.vcpuId);
    if (s === undefined) {
      s = { irq: NO_IRQ, created: false };
      this.#vcpus.set(vcpu.vcpuId, s);
    }
    return s;
  }

  /** pmu_irq_is_valid: a PPI the same on every vCPU that has one, an SPI no other vCPU's vPMU uses. */
  #checkIrqUnique(irq: number, ppi: boolean, io: string): void {
    for (const [id, s] of this.#vcpus) {
      if (s.irq === NO_IRQ) continue;
      if (ppi && s.irq !== irq) this.vm.fail("EINVAL", io, `vCPU ${id}'s vPMU uses interrupt ${s.irq}: a PPI must be the same on every vCPU`);
      if (!ppi && s.irq === irq) this.vm.fail("EINVAL", io, `SPI ${irq} is already vCPU ${id}'s PMU interrupt`);
    }
  }

  /** kvm_arm_pmu_v3_init. */
  #init(vcpu: PmuVcpu, pmu: VcpuPmuState, io: string): void {
    const vm: Vm = this.vm;
    if (vm.irqchip !== undefined) {
      const vgic = VgicV3.of(vm);
      if (vgic?.initialized !== true) vm.fail("ENODEV", io, "the vgic is not initialised (KVM_DEV_ARM_VGIC_CTRL_INIT)");
      if (pmu.irq === NO_IRQ) vm.fail("ENXIO", io, `vCPU ${vcpu.vcpuId}: no PMU interrupt is set (KVM_ARM_VCPU_PMU_V3_IRQ)`);
      const refused = vgic.setOwner(vcpu.vcpuId, pmu.irq, pmuOwner(vcpu.vcpuId));
      if (refused !== undefined) vm.fail(refused, io, `vCPU ${vcpu.vcpuId}: the vgic cannot give interrupt ${pmu.irq} to the vPMU`);
    }
    pmu.created = true;
  }
}

/** Whether `v` can be read as a struct kvm_pmu_event_filter (copy_from_user's EFAULT otherwise). */
function isEventFilter(v: unknown): v is KvmPmuEventFilter {
  if (typeof v !== "object" || v === null) return false;
  const f = v as Partial<Record<keyof KvmPmuEventFilter, unknown>>;
  const int = (x: unknown, max: number): boolean => typeof x === "number" && Number.isInteger(x) && x >= 0 && x <= max;
  return int(f.baseEvent, 0xffff) && int(f.nevents, 0xffff) && int(f.action, 0xff);
}
