// HGEIE: which guest external interrupt lines a blocked vCPU waits on, as Linux ≥ 6.16 keeps it
// (arch/riscv/kvm/aia_imsic.c kvm_riscv_vcpu_aia_imsic_put / _load / _update; aia.c hgei_interrupt,
// kvm_riscv_aia_disable), and the kick a hart going offline gives each blocked owner.
import { describe, expect, it } from "vitest";
import { Host } from "../host.js";
import { Kvm } from "../kvm.js";
import { KVM_EXIT_INTR } from "../uapi/exit-reasons.js";
import type { RiscvAiaHost } from "./aia-host.js";
import { registerRiscvAia } from "./aia-register.js";
import { claimingGuest, createAiaVm, type AiaVm } from "../../test/aia-test-kit.js";
import * as U from "./aia-uapi.js";

/** Two harts with two VS-files each; two vCPUs (HWACCEL unless told) pinned to hart 1 running the claiming guest. */
function rig(mode: number = U.KVM_DEV_RISCV_AIA_MODE_HWACCEL): { kvm: Kvm; aia: RiscvAiaHost; v: AiaVm; claimed: number[][] } {
  const kvm = new Kvm({ arch: "riscv64", host: new Host({ cpus: 2 }) });
  const aia = registerRiscvAia(kvm, { geilen: 2 });
  const v = createAiaVm(kvm, { vcpus: 2, mode });
  const claimed: number[][] = [[], []];
  v.vcpus.forEach((c, i) => {
    c.setMpState(0);
    c.setThreadAffinity([1]);
    c.loadGuest(claimingGuest([5, 6], claimed[i]!));
  });
  return { kvm, aia, v, claimed };
}

function msi(v: AiaVm, vcpu: number, id: number): void {
  const addr = Number(v.aia.chip(vcpu)!.imsicAddr);
  expect(v.aia.injectMsi({ addressLo: addr, addressHi: 0, data: id, flags: 0, devid: 0 })).toBe(1);
}

const hgeie = (aia: RiscvAiaHost, hart: number) => aia.harts[hart]!.hgeieLo;

describe("HGEIE per hart (kvm_riscv_vcpu_aia_imsic_put, hgei_interrupt)", () => {
  it("a vCPU blocking with a VS-file sets its line's bit; the file's interrupt clears it and wakes the vCPU", () => {
    const { kvm, aia, v, claimed } = rig();
    let seen = -1;
    kvm.queue.schedule(1_000_000, () => {
      seen = hgeie(aia, 1);
      msi(v, 0, 5);
    });
    expect(v.vcpus[0]!.run().reason).toBe(KVM_EXIT_INTR);
    expect(v.aia.chip(0)!.vsFileHgei).toBe(1);
    expect(seen).toBe(0b10); // blocked in WFI on line 1 of hart 1
    expect(claimed[0]).toEqual([5]);
    // hgei_interrupt cleared the bit that fired; the vCPU then blocked again (idle) and set it anew.
    expect(hgeie(aia, 1)).toBe(0b10);
  });

  it("waking for another reason leaves the bit set (Linux ≥ 6.16 clears HGEIE only in hgei_interrupt)", () => {
    const { aia, v } = rig();
    v.vcpus[0]!.run(); // blocks, then returns idle
    expect(hgeie(aia, 1)).toBe(0b10);
    // The next entry on the same hart keeps its file: imsic_update does nothing, HGEIE stays.
    v.vcpus[0]!.setThreadAffinity([1]);
    v.vcpus[0]!.run();
    expect(hgeie(aia, 1)).toBe(0b10);
  });

  it("taking a line clears its stale bit first (kvm_riscv_vcpu_aia_imsic_update)", () => {
    const { aia, v } = rig();
    v.vcpus[0]!.run(); // line 1 of hart 1, bit set by the wait
    v.vcpus[0]!.setThreadAffinity([0]);
    v.vcpus[0]!.run(); // moves to hart 0: line 1 of hart 1 freed, its bit still set
    expect(hgeie(aia, 1)).toBe(0b10);
    expect(v.aia.chip(1)!.flush(1)).toBe(0); // vCPU 1 takes line 1 of hart 1
    expect(v.aia.chip(1)!.vsFileHgei).toBe(1);
    expect(hgeie(aia, 1)).toBe(0);
  });
});

describe("a hart going offline kicks the blocked owners of its VS-files (kvm_riscv_aia_disable)", () => {
  it("the vCPU blocked on the hart is kicked and its bit cleared; a vCPU not blocked is not; the next MSI reaches the SW-file and wakes it", () => {
    // AUTO: after the offlining the woken vCPU re-enters on the same (now offline) hart with its SW-file.
    const { kvm, aia, v, claimed } = rig(U.KVM_DEV_RISCV_AIA_MODE_AUTO);
    const ignored = () => kvm.tracer.counters.get("kvm.wake_ignored");
    // vCPU 1 holds line 1 of hart 1 but is not in KVM_RUN (not blocked); vCPU 0 then blocks on line 2.
    expect(v.aia.chip(1)!.flush(1)).toBe(0);
    expect(v.aia.chip(1)!.vsFileHgei).toBe(1);
    let atOffline = -1;
    let ignoredByKick = -1;
    kvm.queue.schedule(1_000_000, () => {
      atOffline = hgeie(aia, 1);
      const before = ignored();
      aia.setHartOnline(1, false);
      // The kick woke vCPU 0, which found nothing pending and went on waiting: a wake-up it ignored.
      kvm.queue.schedule(kvm.queue.now + 1, () => {
        ignoredByKick = ignored() - before;
      });
    });
    kvm.queue.schedule(2_000_000, () => {
      msi(v, 0, 6);
    });
    expect(v.vcpus[0]!.run().reason).toBe(KVM_EXIT_INTR);
    expect(atOffline).toBe(0b100); // line 2: vCPU 0 blocked; line 1: vCPU 1, not blocked
    expect(ignoredByKick).toBe(1);
    expect([v.aia.chip(0)!.vsFileCpu, v.aia.chip(1)!.vsFileCpu]).toEqual([-1, -1]);
    expect(hgeie(aia, 1)).toBe(0);
    expect(claimed[0]).toEqual([6]);
  });

  it("no kick for an owner whose bit is clear: the offlining itself wakes nobody", () => {
    const { kvm, aia, v } = rig(U.KVM_DEV_RISCV_AIA_MODE_AUTO);
    expect(v.aia.chip(0)!.flush(1)).toBe(0);
    expect(v.aia.chip(1)!.flush(1)).toBe(0);
    const before = kvm.tracer.counters.get("kvm.wake_ignored");
    aia.setHartOnline(1, false);
    expect(kvm.tracer.counters.get("kvm.wake_ignored")).toBe(before);
    expect([v.aia.chip(0)!.vsFileCpu, v.aia.chip(1)!.vsFileCpu]).toEqual([-1, -1]);
  });
});
