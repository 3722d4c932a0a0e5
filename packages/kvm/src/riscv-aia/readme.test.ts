// Executes the example of src/riscv-aia/README.md.
import { expect, it } from "vitest";
import { Host, Kvm, registerRiscvAia, createAiaVm, claimingGuest, KVM_DEV_RISCV_AIA_MODE_HWACCEL, VIRT_IMSIC_S } from "../index.js";

it("README example", () => {
  const kvm = new Kvm({ arch: "riscv64", host: new Host({ cpus: 2 }) });
  const host = registerRiscvAia(kvm, { geilen: 1, profile: "linux-6.19" }); // 1 guest file per hart
  const { vm, vcpus } = createAiaVm(kvm, { vcpus: 2, mode: KVM_DEV_RISCV_AIA_MODE_HWACCEL });
  const claimed: number[] = [];
  for (const v of vcpus) {
    v.setMpState(0);
    v.setThreadAffinity([0]);
    v.loadGuest(claimingGuest([9], claimed));
  }
  vcpus[0]!.run(); // takes hart 0's only VS-file, waits in WFI
  vm.signalMsi({ addressLo: VIRT_IMSIC_S, addressHi: 0, data: 9, flags: 0, devid: 0 });
  vcpus[0]!.run(); // wakes on hgeip, claims 9 through stopei
  const exit = vcpus[1]!.run(); // hart 0 has no free file: KVM_EXIT_FAIL_ENTRY
  expect([claimed, exit.reason, exit.reason === 9 && exit.hardwareEntryFailureReason, host.failures[0]?.vcpuId]).toEqual([[9], 9, 1, 1]);
});
