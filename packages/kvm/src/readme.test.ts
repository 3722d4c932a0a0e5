/** The README's example, executed as written (imports adapted to the package's own source). */
import { op } from "@irqlab/sim";
import { expect, test } from "vitest";
import { KVM_ARM_TARGET_GENERIC_V8, KVM_EXIT_INTR, KVM_EXIT_MMIO, Kvm } from "./index.js";

test("README example: create a VM and a vCPU, run a guest whose MMIO read the VMM answers", () => {
  const vm = new Kvm({ arch: "arm64" }).createVm();
  const vcpu = vm.createVcpu(0);
  vcpu.armVcpuInit({ target: KVM_ARM_TARGET_GENERIC_V8 });
  let seen = 0;
  vcpu.loadGuest({ main: function* () { seen = (yield op.read(0x0a00_0000, 4)).value; } });
  const exit = vcpu.run(); // KVM_EXIT_MMIO: no in-kernel device claims the load
  if (exit.reason === KVM_EXIT_MMIO) exit.value = 0x1234; // the VMM answers the read
  const next = vcpu.run(); // completes it; the guest then has nothing left: idle
  console.log(seen.toString(16), next.reason === KVM_EXIT_INTR && next.cause); // 1234 idle

  expect(exit.reason).toBe(KVM_EXIT_MMIO);
  expect(seen).toBe(0x1234);
  expect(next.reason === KVM_EXIT_INTR && next.cause).toBe("idle");
  expect(vm.queue.now).toBe(1683 + 306); // the exit round trip, then one WFI trap of the idle loop
});
