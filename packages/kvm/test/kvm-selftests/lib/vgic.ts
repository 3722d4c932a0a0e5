/**
 * The host side of Linux's selftest library for the vgic that the ported ITS
 * selftests share: a VM whose vCPUs come with the default vgic-v3
 * (vm_create_with_vcpus → __vgic_v3_setup(vm, nr_vcpus, 64) and its CTRL_INIT at
 * vCPU finalisation), a test memslot at the top of the IPA space (as each test's
 * setup_memslot places it) and the ITS device (lib/arm64/vgic.c vgic_its_setup).
 */
import {
  KVM_ARM_TARGET_GENERIC_V8,
  KVM_DEV_ARM_VGIC_CTRL_INIT,
  KVM_DEV_ARM_VGIC_GRP_ADDR,
  KVM_DEV_ARM_VGIC_GRP_CTRL,
  KVM_DEV_ARM_VGIC_GRP_NR_IRQS,
  KVM_DEV_TYPE_ARM_VGIC_ITS,
  KVM_DEV_TYPE_ARM_VGIC_V3,
  KVM_VGIC_ITS_ADDR_TYPE,
  KVM_VGIC_V3_ADDR_TYPE_DIST,
  KVM_VGIC_V3_ADDR_TYPE_REDIST_REGION,
  Kvm,
  redistRegionAttr,
  type Device,
  type Vm,
} from "../../../src/index.js";
import { GICD_BASE_GPA, GICR_BASE_GPA, GITS_BASE_GPA } from "./gic_v3_its.js";

/** The slot the tests' own memory goes in. */
export const TEST_MEMSLOT_INDEX = 1;
/** The IPA size of a VM created with type 0 (arch/arm64/kvm/mmu.c kvm_init_stage2_mmu: 40 bits). */
const VM_IPA_BITS = 40;

/** A VM with `nrCpus` initialised vCPUs (ids 0 ..) and an initialised vgic-v3 of 64 IRQs. */
export function vmWithVgicV3(nrCpus: number) {
  const kvm = new Kvm({ arch: "arm64" });
  const vm = kvm.createVm();
  const vcpus = Array.from({ length: nrCpus }, (_, i) => {
    const v = vm.createVcpu(i);
    v.armVcpuInit({ target: KVM_ARM_TARGET_GENERIC_V8 });
    return v;
  });
  const gic = vgicV3Setup(vm, nrCpus, 64, GICD_BASE_GPA, GICR_BASE_GPA);
  return { kvm, vm, vcpus, gic };
}

/**
 * __vgic_v3_setup(vm, nr_vcpus, nr_irqs) with its KVM_DEV_ARM_VGIC_CTRL_INIT:
 * a vgic-v3 of `nrIrqs` interrupts, the distributor at `gicd`, one
 * redistributor region of `nrCpus` frames at `gicr`, initialised.
 */
export function vgicV3Setup(vm: Vm, nrCpus: number, nrIrqs: number, gicd: number, gicr: number): Device {
  const gic = vm.createDevice(KVM_DEV_TYPE_ARM_VGIC_V3);
  gic.setDeviceAttr({ group: KVM_DEV_ARM_VGIC_GRP_NR_IRQS, attr: 0, value: nrIrqs });
  gic.setDeviceAttr({ group: KVM_DEV_ARM_VGIC_GRP_ADDR, attr: KVM_VGIC_V3_ADDR_TYPE_DIST, value: gicd });
  gic.setDeviceAttr({ group: KVM_DEV_ARM_VGIC_GRP_ADDR, attr: KVM_VGIC_V3_ADDR_TYPE_REDIST_REGION, value: redistRegionAttr(0, gicr, nrCpus) });
  gic.setDeviceAttr({ group: KVM_DEV_ARM_VGIC_GRP_CTRL, attr: KVM_DEV_ARM_VGIC_CTRL_INIT });
  return gic;
}

/**
 * setup_memslot(sz): `sz` bytes of RAM in TEST_MEMSLOT_INDEX ending at the top of the
 * IPA space (vm_compute_max_gfn); returns its base. Allocations then hand the slot
 * out from the base upwards, as vm_phy_pages_alloc does.
 */
export function setupMemslot(vm: Vm, sz: number): { readonly base: number; alloc(bytes: number): number } {
  const base = 2 ** VM_IPA_BITS - sz;
  vm.setUserMemoryRegion({ slot: TEST_MEMSLOT_INDEX, guestPhysAddr: base, memorySize: sz });
  let next = base;
  return {
    base,
    alloc(bytes: number): number {
      const at = next;
      next += bytes;
      if (next > base + sz) throw new Error(`test memslot exhausted allocating ${bytes} bytes`);
      return at;
    },
  };
}

/** vgic_its_setup: the ITS device at GITS_BASE_GPA, initialised. */
export function vgicItsSetup(vm: Vm): Device {
  const its = vm.createDevice(KVM_DEV_TYPE_ARM_VGIC_ITS);
  its.setDeviceAttr({ group: KVM_DEV_ARM_VGIC_GRP_ADDR, attr: KVM_VGIC_ITS_ADDR_TYPE, value: GITS_BASE_GPA });
  its.setDeviceAttr({ group: KVM_DEV_ARM_VGIC_GRP_CTRL, attr: KVM_DEV_ARM_VGIC_CTRL_INIT });
  return its;
}
