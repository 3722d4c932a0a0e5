/**
 * Answers of the system and VM fds that must match Linux:
 * KVM_SET_USER_MEMORY_REGION beyond the guest-physical address space, and
 * KVM_CHECK_EXTENSION for the capabilities the model implements.
 */

import { describe, expect, test } from "vitest";
import { KVM_MAX_IRQ_ROUTES } from "./irqfd/gsi-routing.js";
import { Kvm } from "./kvm.js";
import * as CAP from "./uapi/capabilities.js";
import { KVM_DEV_TYPE_ARM_VGIC_ITS } from "./uapi/device-types.js";
import { KVM_MEM_MAX_NR_PAGES } from "./vm.js";

/** The errno name a call fails with, "ok", or the class of anything else that escaped. */
function outcome(f: () => unknown): string {
  try {
    f();
    return "ok";
  } catch (e) {
    return (e as { code?: string }).code ?? (e as Error).constructor.name;
  }
}

const slot = (id: number, guestPhysAddr: number, memorySize: number) => ({ slot: id, guestPhysAddr, memorySize });

describe("KVM_SET_USER_MEMORY_REGION beyond the guest-physical address space → EFAULT (kvm_arch_prepare_memory_region)", () => {
  test("arm64: base_gfn + npages > kvm_phys_size >> PAGE_SHIFT (arch/arm64/kvm/mmu.c)", () => {
    const vm = new Kvm({ arch: "arm64" }).createVm(); // type 0: 40-bit IPA
    const top = 2 ** 40;
    expect(outcome(() => vm.setUserMemoryRegion(slot(1, top - 0x1000, 0x2000)))).toBe("EFAULT");
    expect(outcome(() => vm.setUserMemoryRegion(slot(2, top, 0x1000)))).toBe("EFAULT");
    expect(outcome(() => vm.setUserMemoryRegion(slot(0, top - 0x10000, 0x10000)))).toBe("ok"); // ends exactly at the top: allowed
    const vm36 = new Kvm({ arch: "arm64" }).createVm(36);
    expect(outcome(() => vm36.setUserMemoryRegion(slot(0, 2 ** 36, 0x1000)))).toBe("EFAULT");
    // The generic checks come first: an overlap is EEXIST even when the slot also ends beyond the IPA space.
    expect(outcome(() => vm.setUserMemoryRegion(slot(3, top - 0x10000, 0x20000)))).toBe("EEXIST");
  });

  test("riscv64: base_gfn + npages ≥ kvm_riscv_gstage_gpa_size >> PAGE_SHIFT (arch/riscv/kvm/mmu.c), GPA size by G-stage mode", () => {
    // arch/riscv/kvm/gstage.c kvm_riscv_gstage_mode_detect keeps the largest of Sv57x4/Sv48x4/Sv39x4;
    // kvm_riscv_gstage_gpa_bits = 12 + 9 × levels + 2.
    expect(new Kvm({ arch: "riscv64" }).gpaBits).toBe(59);
    for (const [mode, bits] of [["sv39x4", 41], ["sv48x4", 50]] as const) {
      const kvm = new Kvm({ arch: "riscv64", gstageMode: mode });
      expect(kvm.checkExtension(CAP.KVM_CAP_VM_GPA_BITS)).toBe(bits);
      const vm = kvm.createVm();
      expect(outcome(() => vm.setUserMemoryRegion(slot(0, 2 ** bits - 0x2000, 0x1000)))).toBe("ok");
      // `>=`: a slot may not end exactly at the top of the GPA space.
      expect(outcome(() => vm.setUserMemoryRegion(slot(1, 2 ** bits - 0x1000, 0x1000)))).toBe("EFAULT");
      expect(outcome(() => vm.setUserMemoryRegion(slot(2, 2 ** bits, 0x1000)))).toBe("EFAULT");
    }
    // Sv57x4 (59 bits): inside the GPA space but above what the model keeps as RAM → a typed EINVAL, never a ConfigError.
    const vm57 = new Kvm({ arch: "riscv64" }).createVm();
    expect(outcome(() => vm57.setUserMemoryRegion(slot(0, 2 ** 52, 0x1000)))).toBe("EINVAL");
    expect(outcome(() => vm57.setUserMemoryRegion(slot(1, 2 ** 50, 0x1000)))).toBe("ok");
    expect(new Kvm({ arch: "arm64" }).checkExtension(CAP.KVM_CAP_VM_GPA_BITS)).toBe(0);
  });

  test("more than KVM_MEM_MAX_NR_PAGES pages → EINVAL (kvm_set_memory_region), on both architectures", () => {
    for (const arch of ["arm64", "riscv64"] as const) {
      const vm = new Kvm({ arch }).createVm(arch === "arm64" ? 48 : 0);
      expect(outcome(() => vm.setUserMemoryRegion(slot(0, 0, (KVM_MEM_MAX_NR_PAGES + 1) * 4096)))).toBe("EINVAL");
    }
  });
});

describe("KVM_CHECK_EXTENSION (virt/kvm/kvm_main.c kvm_vm_ioctl_check_extension_generic, arch/*/kvm kvm_vm_ioctl_check_extension)", () => {
  test("generic: IRQFD 1, SIGNAL_MSI 1, IRQ_ROUTING KVM_MAX_IRQ_ROUTES, on both", () => {
    for (const arch of ["arm64", "riscv64"] as const) {
      const kvm = new Kvm({ arch });
      expect(kvm.checkExtension(CAP.KVM_CAP_IRQFD)).toBe(1);
      expect(kvm.checkExtension(CAP.KVM_CAP_SIGNAL_MSI)).toBe(1);
      expect(kvm.checkExtension(CAP.KVM_CAP_IRQ_ROUTING)).toBe(KVM_MAX_IRQ_ROUTES);
      expect(KVM_MAX_IRQ_ROUTES).toBe(4096);
      // Linux answers 1 on both (arm.c, vm.c); the model has no ioeventfd, so it says 0.
      expect(kvm.checkExtension(CAP.KVM_CAP_IOEVENTFD)).toBe(0);
      // KVM_GET/SET_ONE_REG: 1 on both (arm.c and vm.c list KVM_CAP_ONE_REG).
      expect(kvm.checkExtension(CAP.KVM_CAP_ONE_REG)).toBe(1);
    }
  });

  test("KVM_CAP_SET_GUEST_DEBUG 1 and KVM_CAP_SET_GUEST_DEBUG2 KVM_GUESTDBG_VALID_MASK on arm64 (arm.c kvm_vm_ioctl_check_extension)", () => {
    const kvm = new Kvm({ arch: "arm64" });
    expect(kvm.checkExtension(CAP.KVM_CAP_SET_GUEST_DEBUG)).toBe(1);
    // ENABLE | SINGLESTEP | USE_SW_BP (1 << 16) | USE_HW (1 << 17).
    expect(kvm.checkExtension(CAP.KVM_CAP_SET_GUEST_DEBUG2)).toBe(0x3_0003);
  });

  test("RISC-V: KVM_CAP_SET_GUEST_DEBUG 1 (vm.c kvm_vm_ioctl_check_extension, with EBREAK → KVM_EXIT_DEBUG), no KVM_CAP_SET_GUEST_DEBUG2", () => {
    const kvm = new Kvm({ arch: "riscv64" });
    expect(kvm.checkExtension(CAP.KVM_CAP_SET_GUEST_DEBUG)).toBe(1);
    expect(kvm.checkExtension(CAP.KVM_CAP_SET_GUEST_DEBUG2)).toBe(0);
  });

  test("KVM_CAP_IRQFD_RESAMPLE: per architecture since Linux 6.4 — arm64 (arm.c) 1, RISC-V (vm.c) 0", () => {
    expect(new Kvm({ arch: "arm64" }).checkExtension(CAP.KVM_CAP_IRQFD_RESAMPLE)).toBe(1);
    expect(new Kvm({ arch: "riscv64" }).checkExtension(CAP.KVM_CAP_IRQFD_RESAMPLE)).toBe(0);
  });

  test("KVM_CAP_MSI_DEVID: arm64 system fd EINVAL (kvm == NULL); VM fd msis_require_devid, set by vgic_its_create", () => {
    const kvm = new Kvm({ arch: "arm64" });
    expect(outcome(() => kvm.checkExtension(CAP.KVM_CAP_MSI_DEVID))).toBe("EINVAL");
    const vm = kvm.createVm();
    expect(vm.checkExtension(CAP.KVM_CAP_MSI_DEVID)).toBe(0);
    vm.createDevice(KVM_DEV_TYPE_ARM_VGIC_ITS);
    expect(vm.checkExtension(CAP.KVM_CAP_MSI_DEVID)).toBe(1);
    expect(kvm.createVm().checkExtension(CAP.KVM_CAP_MSI_DEVID)).toBe(0); // per VM
    // RISC-V's vm.c does not list it.
    const rv = new Kvm({ arch: "riscv64" });
    expect(rv.checkExtension(CAP.KVM_CAP_MSI_DEVID)).toBe(0);
    expect(rv.createVm().checkExtension(CAP.KVM_CAP_MSI_DEVID)).toBe(0);
  });
});
