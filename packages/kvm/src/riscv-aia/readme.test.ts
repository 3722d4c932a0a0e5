// Executes the example of src/riscv-aia/README.md (the same code, its console.log an expect).
import { expect, it } from "vitest";
import { Host, Kvm, registerRiscvAia, KVM_DEV_TYPE_RISCV_AIA, KVM_DEV_RISCV_AIA_GRP_CONFIG, KVM_DEV_RISCV_AIA_CONFIG_MODE,
  KVM_DEV_RISCV_AIA_CONFIG_HART_BITS, KVM_DEV_RISCV_AIA_GRP_ADDR, KVM_DEV_RISCV_AIA_ADDR_IMSIC, KVM_DEV_RISCV_AIA_GRP_CTRL,
  KVM_DEV_RISCV_AIA_CTRL_INIT, KVM_DEV_RISCV_AIA_MODE_HWACCEL, CSR_SISELECT, CSR_SIREG, CSR_STOPEI } from "../index.js";
import { op, type GuestProgram } from "@irqlab/sim";


it("README example", () => {
  const IMSIC = 0x2800_0000; // QEMU virt's IMSIC-S base: hart i's file at IMSIC + i × 4 KiB
  const kvm = new Kvm({ arch: "riscv64", host: new Host({ cpus: 2 }) });
  const host = registerRiscvAia(kvm, { geilen: 1, profile: "linux-6.19" }); // 1 guest file per hart
  const vm = kvm.createVm();
  const vcpus = [vm.createVcpu(0), vm.createVcpu(1)] as const;
  const aia = vm.createDevice(KVM_DEV_TYPE_RISCV_AIA);
  const set = (group: number, attr: number, value = 0) => aia.setDeviceAttr({ group, attr, value });
  set(KVM_DEV_RISCV_AIA_GRP_CONFIG, KVM_DEV_RISCV_AIA_CONFIG_MODE, KVM_DEV_RISCV_AIA_MODE_HWACCEL);
  set(KVM_DEV_RISCV_AIA_GRP_CONFIG, KVM_DEV_RISCV_AIA_CONFIG_HART_BITS, 1);
  for (let i = 0; i < 2; i++) set(KVM_DEV_RISCV_AIA_GRP_ADDR, KVM_DEV_RISCV_AIA_ADDR_IMSIC(i), IMSIC + i * 0x1000);
  set(KVM_DEV_RISCV_AIA_GRP_CTRL, KVM_DEV_RISCV_AIA_CTRL_INIT);

  // The guest: eidelivery = 1, enable identity 9 (eie0), sie.SEIE, then WFI; its vector claims through stopei.
  const claimed: number[] = [];
  for (const v of vcpus) {
    v.setMpState(0);
    v.setThreadAffinity([0]);
    v.loadGuest({
      main: function* (): GuestProgram {
        yield op.csrWrite(CSR_SISELECT, 0x70); yield op.csrWrite(CSR_SIREG, 1);
        yield op.csrWrite(CSR_SISELECT, 0xc0); yield op.csrSet(CSR_SIREG, 1 << 9);
        yield op.csrSet(0x104 /* sie */, 1 << 9 /* SEIE */); yield op.unmask();
        for (;;) yield op.wfi();
      },
      vector: function* (): GuestProgram {
        for (let id; (id = (yield op.csrWrite(CSR_STOPEI, 0)).value >>> 16) !== 0; ) claimed.push(id);
      },
    });
  }
  vcpus[0].run(); // takes hart 0's only VS-file, waits in WFI
  vm.signalMsi({ addressLo: IMSIC, addressHi: 0, data: 9, flags: 0, devid: 0 });
  vcpus[0].run(); // wakes on hgeip, claims 9 through stopei
  const exit = vcpus[1].run(); // hart 0 has no free file: KVM_EXIT_FAIL_ENTRY
  expect([claimed, exit.reason, exit.reason === 9 && exit.hardwareEntryFailureReason, host.failures[0]?.vcpuId]).toEqual([[9], 9, 1, 1]);
});
