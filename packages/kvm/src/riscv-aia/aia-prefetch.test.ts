// The AIA chip's prefetch before an MSI: a vCPU that many other vCPUs' MSIs
// followed has its state loaded up front, one sent an MSI recently does not,
// and neither changes what the model does.
import { EventQueue, Tracer } from "@irqlab/sim";
import { describe, expect, it, vi } from "vitest";
import { Host } from "../host.js";
import { Kvm } from "../kvm.js";
import { KVM_MP_STATE_RUNNABLE } from "../uapi/mp-state.js";
import type { Vcpu } from "../vcpu.js";
import { claimingGuest, createAiaVm, VIRT_IMSIC_S } from "../../test/aia-test-kit.js";
import { registerRiscvAia } from "./aia-register.js";
import * as U from "./aia-uapi.js";
import { PREFETCH_AFTER_MSIS } from "./aia-vcpu.js";
import type { RiscvAiaHost } from "./aia-host.js";
import type { RiscvAiaDevice } from "./aia-device.js";

const AFTER = PREFETCH_AFTER_MSIS;

function twoVcpus(mode: number, startCount = 0, traced = false): { host: RiscvAiaHost; aia: RiscvAiaDevice; vcpus: Vcpu[]; tracer: Tracer } {
  const queue = new EventQueue();
  const tracer = new Tracer(queue, { enabled: traced });
  const kvm = new Kvm({ arch: "riscv64", host: new Host({ cpus: 2 }), queue, tracer });
  const host = registerRiscvAia(kvm, { geilen: 2 });
  host.msis = startCount;
  const { aia, vcpus } = createAiaVm(kvm, { vcpus: 2, mode });
  return { host, aia, vcpus, tracer };
}

function msiTo(aia: RiscvAiaDevice, vcpu: number, id = 7): void {
  expect(aia.injectMsi({ addressLo: VIRT_IMSIC_S + vcpu * 0x1000, addressHi: 0, data: id, flags: 0, devid: 0 })).toBe(1);
}

describe("AIA: loading a vCPU's state before an MSI", () => {
  it("loads it at a vCPU's first MSI and again once PREFETCH_AFTER_MSIS MSIs to others followed its last, not sooner", () => {
    const { aia, vcpus } = twoVcpus(U.KVM_DEV_RISCV_AIA_MODE_EMUL);
    const p0 = vi.spyOn(vcpus[0]!, "prefetch");
    const p1 = vi.spyOn(vcpus[1]!, "prefetch");
    msiTo(aia, 0);
    expect(p0).toHaveBeenCalledTimes(1);
    msiTo(aia, 0);
    expect(p0).toHaveBeenCalledTimes(1);
    for (let i = 0; i < AFTER - 1; i++) msiTo(aia, 1);
    expect(p1).toHaveBeenCalledTimes(1);
    // vCPU 0's last MSI was AFTER - 1 MSIs ago: this one is the AFTER-th since.
    msiTo(aia, 0);
    expect(p0).toHaveBeenCalledTimes(2);
    for (let i = 0; i < AFTER - 2; i++) msiTo(aia, 1);
    msiTo(aia, 0);
    expect(p0).toHaveBeenCalledTimes(2);
  });

  it("keeps the distance right where the host's count wraps at 2^31", () => {
    const { host, aia, vcpus } = twoVcpus(U.KVM_DEV_RISCV_AIA_MODE_EMUL, 0x7fff_fff0);
    const p0 = vi.spyOn(vcpus[0]!, "prefetch");
    msiTo(aia, 0);
    expect(p0).toHaveBeenCalledTimes(1);
    for (let i = 0; i < 20; i++) msiTo(aia, 1);
    expect(host.msis).toBeLessThan(0);
    msiTo(aia, 0);
    expect(p0).toHaveBeenCalledTimes(1);
    for (let i = 0; i < AFTER; i++) msiTo(aia, 1);
    msiTo(aia, 0);
    expect(p0).toHaveBeenCalledTimes(2);
  });

  it("changes nothing a guest, the VMM or a trace sees: the same claims, exits, virtual time and trace with more loads", () => {
    // Two VMs run the same MSIs; in one every vCPU's prefetch is also made twice more before each of its runs.
    const run = (extra: boolean): string => {
      const { aia, vcpus, tracer } = twoVcpus(U.KVM_DEV_RISCV_AIA_MODE_HWACCEL, 0, true);
      const claimed: number[] = [];
      for (const v of vcpus) {
        v.loadGuest(claimingGuest([7, 9], claimed));
        // Secondary harts start stopped (kvm_arch_vcpu_postcreate): the VMM starts them, as QEMU does.
        v.setMpState(KVM_MP_STATE_RUNNABLE);
      }
      const log: string[] = [];
      for (let round = 0; round < 3; round++) {
        for (const [k, v] of vcpus.entries()) {
          if (extra) {
            v.prefetch();
            v.prefetch();
          }
          if (round > 0) msiTo(aia, k, round === 1 ? 7 : 9);
          const e = v.run();
          log.push(`${k}:${e.reason}:${v.vm.queue.now}`);
        }
      }
      return `${log.join(" ")} claimed ${claimed.join(",")} counters ${JSON.stringify(tracer.counters.toJSON())} trace ${JSON.stringify(tracer.events())}`;
    };
    const plain = run(false);
    expect(plain).toContain("claimed 7,7,9,9");
    expect(run(true)).toBe(plain);
  });
});
