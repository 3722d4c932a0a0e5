/**
 * KVM_SIGNAL_MSI on RISC-V finds the vCPU by its IMSIC page
 * (kvm_riscv_aia_inject_msi: the target PPN with the guest-index bits cleared
 * against each vCPU's vsaddr >> 12, arch/riscv/kvm/aia_device.c): every vCPU
 * of a large VM answers on its own page only, a 64-bit address above 4 GiB
 * is matched on all its bits, and an address that only agrees in its low
 * bits with a page (higher bits set) reaches nobody.
 */
import { describe, expect, it } from "vitest";
import { Host } from "../host.js";
import { Kvm } from "../kvm.js";
import { createAiaVm } from "../../test/aia-test-kit.js";
import { registerRiscvAia } from "./aia-register.js";
import * as U from "./aia-uapi.js";

function vm(vcpus: number, imsicBase: number) {
  const kvm = new Kvm({ arch: "riscv64", host: new Host({ cpus: 4 }) });
  registerRiscvAia(kvm, { geilen: 2 });
  return createAiaVm(kvm, { vcpus, mode: U.KVM_DEV_RISCV_AIA_MODE_EMUL, imsicBase });
}

const at = (addr: number, data: number) => ({ addressLo: addr % 2 ** 32, addressHi: Math.floor(addr / 2 ** 32), data, flags: 0, devid: 0 });

describe("RISC-V MSI address → vCPU IMSIC page", () => {
  it("each of 64 vCPUs takes the MSIs written to its own page and no other", () => {
    const { aia } = vm(64, 0x2800_0000);
    for (let i = 0; i < 64; i++) expect(aia.injectMsi(at(0x2800_0000 + i * 0x1000, 1 + (i % 60)))).toBe(1);
    for (let i = 0; i < 64; i++) {
      const f = aia.chip(i)!.swfile!;
      expect(f.isPending(1 + (i % 60))).toBe(true);
      expect(f.isPending(1 + ((i + 1) % 60))).toBe(false);
    }
    expect(aia.injectMsi(at(0x2800_0000 + 64 * 0x1000, 5))).toBe(0); // past the last vCPU's page
  });

  it("a page above 4 GiB is matched on its high address bits too", () => {
    const base = 0x7_2800_0000;
    const { aia } = vm(2, base);
    expect(aia.injectMsi(at(base + 0x1000, 9))).toBe(1);
    expect(aia.chip(1)!.swfile!.isPending(9)).toBe(true);
    expect(aia.injectMsi(at(base % 2 ** 32, 9))).toBe(0); // same low word, high word 0
    expect(aia.injectMsi(at(base + 2 ** 32, 9))).toBe(0); // high word off by one
  });

  it("an address at or above 2^53 that repeats a page's low bits reaches no vCPU", () => {
    const { aia } = vm(2, 0x2800_0000);
    expect(aia.injectMsi({ addressLo: 0x2800_0000, addressHi: 0x0020_0000, data: 3, flags: 0, devid: 0 })).toBe(0);
    expect(aia.injectMsi({ addressLo: 0x2800_1000, addressHi: 0xffff_ffff, data: 3, flags: 0, devid: 0 })).toBe(0);
    expect(aia.chip(0)!.swfile!.isPending(3) || aia.chip(1)!.swfile!.isPending(3)).toBe(false);
  });
});
