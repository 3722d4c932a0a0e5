// VS-file allocation at entry as Linux's kvm_riscv_vcpu_aia_imsic_update (arch/riscv/kvm/aia_imsic.c):
// lowest free HGEI, kept on the same hart, moved by read-and-clear + OR-merge, FAIL_ENTRY per profile,
// AUTO fallback and return, hart offline (kvm_riscv_aia_disable).
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Host } from "../host.js";
import { Kvm } from "../kvm.js";
import { KVM_EXIT_FAIL_ENTRY, KVM_EXIT_INTR } from "../uapi/exit-reasons.js";
import type { RiscvAiaHost } from "./aia-host.js";
import { registerRiscvAia } from "./aia-register.js";
import { claimingGuest, createAiaVm, type AiaVm } from "../../test/aia-test-kit.js";
import * as U from "./aia-uapi.js";
import { EIDELIVERY_OFF, EIDELIVERY_ON, ISELECT_EIDELIVERY, ISELECT_EIE0 } from "@irqlab/aia";
import { CSR_SIREG, CSR_SISELECT, CSR_STOPEI, type AiaVcpuChip } from "./aia-vcpu.js";

function host(geilen: number, cpus: number, profile: U.RiscvAiaKernelProfile = "linux-6.19"): { kvm: Kvm; aia: RiscvAiaHost } {
  const kvm = new Kvm({ arch: "riscv64", host: new Host({ cpus }) });
  return { kvm, aia: registerRiscvAia(kvm, { geilen, profile }) };
}

function msi(v: AiaVm, vcpu: number, id: number): void {
  const addr = Number(v.aia.chip(vcpu)!.imsicAddr);
  expect(v.aia.injectMsi({ addressLo: addr, addressHi: 0, data: id, flags: 0, devid: 0 })).toBe(1);
}

const chipOf = (v: AiaVm, i: number): AiaVcpuChip => v.aia.chip(i)!;

describe("VS-file allocation per Linux", () => {
  it("takes the lowest free line on the entry hart and keeps it while the vCPU stays there", () => {
    const { kvm, aia } = host(3, 2);
    const v = createAiaVm(kvm, { vcpus: 3, mode: U.KVM_DEV_RISCV_AIA_MODE_HWACCEL });
    expect(chipOf(v, 0).flush(0)).toBe(0);
    expect(chipOf(v, 1).flush(0)).toBe(0);
    expect([chipOf(v, 0).vsFileHgei, chipOf(v, 1).vsFileHgei]).toEqual([1, 2]);
    expect(chipOf(v, 0).flush(0)).toBe(0); // same hart: nothing to do
    expect(chipOf(v, 0).moves).toBe(1);
    // vCPU 0 moves to hart 1: line 1 there, line 1 on hart 0 freed, then reused lowest-first.
    chipOf(v, 0).flush(1);
    expect([chipOf(v, 0).vsFileCpu, chipOf(v, 0).vsFileHgei]).toEqual([1, 1]);
    expect(aia.allocator.ownerOf(0, 1)).toBe(-1);
    chipOf(v, 2).flush(0);
    expect(chipOf(v, 2).vsFileHgei).toBe(1);
  });

  it("EMUL never takes a VS-file", () => {
    const { kvm, aia } = host(2, 1);
    const v = createAiaVm(kvm, { vcpus: 1, mode: U.KVM_DEV_RISCV_AIA_MODE_EMUL });
    expect(chipOf(v, 0).flush(0)).toBe(0);
    expect(chipOf(v, 0).vsFileCpu).toBe(-1);
    expect(aia.allocator.totalFree).toBe(2);
  });

  for (const [profile, reason] of [["linux-6.18", 0x600], ["linux-6.19", 1]] as const) {
    it(`HWACCEL without a free file: KVM_EXIT_FAIL_ENTRY, reason 0x${reason.toString(16)} under ${profile}, cpu = the hart, old file kept`, () => {
      const { kvm, aia } = host(1, 2, profile);
      const v = createAiaVm(kvm, { vcpus: 2, mode: U.KVM_DEV_RISCV_AIA_MODE_HWACCEL });
      for (const c of v.vcpus) c.setMpState(0);
      v.vcpus[0]!.setThreadAffinity([1]);
      v.vcpus[0]!.loadGuest(claimingGuest([5], []));
      expect(v.vcpus[0]!.run().reason).toBe(KVM_EXIT_INTR);
      msi(v, 0, 5); // pending in vCPU 0's file on hart 1
      v.vcpus[1]!.setThreadAffinity([0]);
      v.vcpus[1]!.run();
      // Now vCPU 0 is pinned to hart 0, whose only file vCPU 1 holds.
      v.vcpus[0]!.setThreadAffinity([0]);
      const e = v.vcpus[0]!.run();
      expect(e.reason).toBe(KVM_EXIT_FAIL_ENTRY);
      if (e.reason !== KVM_EXIT_FAIL_ENTRY) return;
      expect(e.hardwareEntryFailureReason).toBe(reason);
      expect(e.cpu).toBe(0);
      expect(aia.allocator.ownerOf(1, 1)).toBe(chipOf(v, 0).ownerId);
      expect(aia.harts[1]!.guestFile(1).isPending(5)).toBe(true);
      expect(aia.failures).toEqual([{ vm: "vm0", vmIndex: 0, vcpuId: 0, cpu: 0, time: expect.any(Number) as number }]);
      // Re-pinning to the previous hart always works: its file is still there.
      v.vcpus[0]!.setThreadAffinity([1]);
      expect(v.vcpus[0]!.run().reason).toBe(KVM_EXIT_INTR);
    });
  }

  it("a move reads-and-clears the old file and OR-merges it: an MSI written between remap and copy survives", () => {
    const { kvm, aia } = host(2, 2);
    const v = createAiaVm(kvm, { vcpus: 1, mode: U.KVM_DEV_RISCV_AIA_MODE_HWACCEL });
    const c = chipOf(v, 0);
    c.flush(0);
    const old = aia.harts[0]!.guestFile(1);
    old.setEnabled(5, true);
    old.setEnabled(7, true);
    old.writeEidelivery(1);
    msi(v, 0, 5);
    let during = -1;
    aia.moveHook = (_o, cpu, hgei): void => {
      msi(v, 0, 7); // lands in the new file: the page is already remapped
      during = aia.harts[cpu]!.guestFile(hgei).isPending(7) ? 1 : 0;
    };
    c.flush(1);
    aia.moveHook = undefined;
    expect(during).toBe(1);
    const now = aia.harts[1]!.guestFile(1);
    expect([now.isPending(5), now.isPending(7), now.isEnabled(5), now.eidelivery]).toEqual([true, true, true, 1]);
    expect(old.state().eip.every((w) => w === 0) && old.state().eie.every((w) => w === 0)).toBe(true);
    expect(aia.harts[1]!.hgeip(1)).toBe(true);
    expect(aia.harts[0]!.hgeip(1)).toBe(false);
  });

  it("AUTO falls back to the SW-file (releasing its VS-file into it) and returns to a VS-file when one is free", () => {
    const { kvm, aia } = host(1, 2);
    const a = createAiaVm(kvm, { vcpus: 1, mode: U.KVM_DEV_RISCV_AIA_MODE_AUTO, name: "a" });
    const b = createAiaVm(kvm, { vcpus: 1, mode: U.KVM_DEV_RISCV_AIA_MODE_HWACCEL, name: "b", imsicBase: 0x2900_0000 });
    const ca = chipOf(a, 0);
    ca.flush(1);
    aia.harts[1]!.guestFile(1).setEnabled(3, true);
    msi(a, 0, 3);
    chipOf(b, 0).flush(0); // b takes hart 0's only file
    expect(ca.flush(0)).toBe(0); // no file on hart 0: fallback, no exit
    expect(ca.vsFileCpu).toBe(-1);
    expect(aia.allocator.ownerOf(1, 1)).toBe(-1); // old VS-file released
    expect(ca.swfile!.isPending(3) && ca.swfile!.isEnabled(3)).toBe(true);
    msi(a, 0, 4);
    expect(ca.swfile!.isPending(4)).toBe(true);
    chipOf(b, 0).flush(1); // b moves away: hart 0's file is free again
    expect(ca.flush(0)).toBe(0);
    expect([ca.vsFileCpu, ca.vsFileHgei]).toEqual([0, 1]);
    const f = aia.harts[0]!.guestFile(1);
    expect([f.isPending(3), f.isPending(4), f.isEnabled(3)]).toEqual([true, true, true]);
    expect(ca.swfile!.isPending(3)).toBe(false);
  });

  it("a hart going offline releases its files into the owners' SW-files and wakes their state", () => {
    const { kvm, aia } = host(2, 2);
    const v = createAiaVm(kvm, { vcpus: 2, mode: U.KVM_DEV_RISCV_AIA_MODE_HWACCEL });
    chipOf(v, 0).flush(1);
    chipOf(v, 1).flush(1);
    msi(v, 1, 9);
    aia.setHartOnline(1, false);
    expect([chipOf(v, 0).vsFileCpu, chipOf(v, 1).vsFileCpu]).toEqual([-1, -1]);
    expect(chipOf(v, 1).swfile!.isPending(9)).toBe(true);
    expect(aia.freeOn(1)).toBe(0);
    expect(aia.harts[1]!.guestFile(2).state().eip.every((w) => w === 0)).toBe(true);
    expect(chipOf(v, 0).flush(1)).toBe(1); // HWACCEL on the offline hart fails entry (-ENODEV from alloc)
    expect(chipOf(v, 0).flush(0)).toBe(0);
    aia.setHartOnline(1, true);
    expect(aia.freeOn(1)).toBe(2);
  });
});

// The steps both properties below take, on the four vCPUs of two VMs over three harts of two lines each.
const enterStep = fc.record({ k: fc.constant("enter" as const), v: fc.nat(3), cpu: fc.nat(2) });
const msiStep = fc.record({ k: fc.constant("msi" as const), v: fc.nat(3), id: fc.integer({ min: 1, max: 63 }) });
const offlineStep = fc.record({ k: fc.constant("offline" as const), cpu: fc.nat(2) });
const modes = fc.constantFrom(U.KVM_DEV_RISCV_AIA_MODE_AUTO, U.KVM_DEV_RISCV_AIA_MODE_HWACCEL);

type CommonStep = { k: "enter"; v: number; cpu: number } | { k: "msi"; v: number; id: number } | { k: "offline"; cpu: number };

/** Two VMs of two vCPUs each in `mode` on a host of three harts with two guest files each; `chips` in vCPU order, VM x first. */
function fourVcpus(mode: number): { aia: RiscvAiaHost; vms: AiaVm[]; chips: AiaVcpuChip[] } {
  const { kvm, aia } = host(2, 3);
  const vms = [createAiaVm(kvm, { vcpus: 2, mode, name: "x" }), createAiaVm(kvm, { vcpus: 2, mode, name: "y", imsicBase: 0x2900_0000 })];
  return { aia, vms, chips: vms.flatMap((v) => [chipOf(v, 0), chipOf(v, 1)]) };
}

/** The steps every property takes alike: an entry on a hart, an MSI, a hart offlined and back. */
function commonStep(aia: RiscvAiaHost, vms: AiaVm[], chips: AiaVcpuChip[], o: CommonStep): void {
  if (o.k === "enter") chips[o.v]!.flush(o.cpu);
  else if (o.k === "msi") msi(vms[o.v >> 1]!, o.v & 1, o.id);
  else {
    aia.setHartOnline(o.cpu, false);
    aia.setHartOnline(o.cpu, true);
  }
}

describe("VS-file invariants (property)", () => {
  it("one owner per file, released files hold nothing, no MSI lost across moves, fallbacks and offlining", () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(enterStep, msiStep, offlineStep), { maxLength: 60 }),
        modes,
        (ops, mode) => {
          const { aia, vms, chips } = fourVcpus(mode);
          // Which chip hears a guest interrupt line's change (hgeipChanged, the hart's hgeip output).
          let heard: AiaVcpuChip | undefined;
          for (const c of chips) c.vsFileLine = () => void (heard = c);
          const sent = chips.map(() => new Set<number>());
          for (const o of ops) {
            commonStep(aia, vms, chips, o);
            if (o.k === "msi") sent[o.v]!.add(o.id);
            // One owner per (cpu, line), and the owner agrees.
            const seen = new Set<string>();
            for (const c of chips) {
              if (c.vsFileCpu < 0) continue;
              const key = `${c.vsFileCpu}/${c.vsFileHgei}`;
              expect(seen.has(key)).toBe(false);
              seen.add(key);
              expect(aia.allocator.ownerOf(c.vsFileCpu, c.vsFileHgei)).toBe(c.ownerId);
              // The owner the host's line changes reach (hgeipChanged, hgeiInterrupt) is the same vCPU's chip.
              expect(aia.ownerOf(c.vsFileCpu, c.vsFileHgei)).toBe(c);
            }
            // Unowned files hold no pending or enable bits.
            for (let cpu = 0; cpu < 3; cpu++) {
              for (let g = 1; g <= 2; g++) {
                heard = undefined;
                aia.hgeipChanged(cpu, g, false);
                expect(heard).toBe(chips.find((c) => c.vsFileCpu === cpu && c.vsFileHgei === g));
                if (seen.has(`${cpu}/${g}`)) continue;
                expect(aia.ownerOf(cpu, g)).toBeUndefined();
                const st = aia.harts[cpu]!.guestFile(g).state();
                expect(st.eip.every((w) => w === 0) && st.eie.every((w) => w === 0)).toBe(true);
              }
            }
            // Every MSI sent is still pending in the vCPU's current file (nobody claims here).
            chips.forEach((c, i) => {
              for (const id of sent[i]!) expect(c.currentFile!.isPending(id)).toBe(true);
            });
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe("the external interrupt line (property)", () => {
  // What the chip keeps as its external line is what its source says at every step: hgeip[VGEIN] of the
  // hart holding its VS-file, else the SW-file's delivery output (arch/riscv/kvm/aia_imsic.c
  // kvm_riscv_vcpu_aia_imsic_has_interrupt, which asks the file).
  it("follows hgeip of the VS-file's hart, else the SW-file, through MSIs, claims, eidelivery, moves, fallbacks and offlining", () => {
    // Steps at which a line was up, with a VS-file and with the SW-file: the runs must reach both.
    let upInVsFile = 0;
    let upInSwFile = 0;
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            enterStep,
            msiStep,
            fc.record({ k: fc.constant("claim" as const), v: fc.nat(3) }),
            fc.record({ k: fc.constant("eidelivery" as const), v: fc.nat(3), on: fc.boolean() }),
            offlineStep,
          ),
          { maxLength: 60 },
        ),
        modes,
        (ops, mode) => {
          const { aia, vms, chips } = fourVcpus(mode);
          const wide = { hi: 0 };
          const csr = (c: AiaVcpuChip, op: "csrrw" | "csrrs", n: number, value: number, hi = 0): number => c.csr(op, n, value, hi, wide);
          // Every identity the MSIs use (1..63) enabled and delivered, as a guest that takes them all:
          // on RV64 eie0 is 64 bits wide and holds identities 0..63 (AIA IMSIC.adoc §3.9, imsic-access.ts).
          for (const c of chips) {
            csr(c, "csrrw", CSR_SISELECT, ISELECT_EIDELIVERY);
            csr(c, "csrrw", CSR_SIREG, EIDELIVERY_ON);
            csr(c, "csrrw", CSR_SISELECT, ISELECT_EIE0);
            csr(c, "csrrw", CSR_SIREG, 0xffff_ffff, 0xffff_ffff);
          }
          const source = (c: AiaVcpuChip): boolean => (c.vsFileCpu >= 0 ? aia.harts[c.vsFileCpu]!.hgeip(c.vsFileHgei) : (c.swfile?.deliveryAsserted ?? false));
          for (const o of ops) {
            if (o.k === "claim") csr(chips[o.v]!, "csrrw", CSR_STOPEI, 0);
            else if (o.k === "eidelivery") {
              csr(chips[o.v]!, "csrrw", CSR_SISELECT, ISELECT_EIDELIVERY);
              csr(chips[o.v]!, "csrrw", CSR_SIREG, o.on ? EIDELIVERY_ON : EIDELIVERY_OFF);
            } else commonStep(aia, vms, chips, o);
            for (const c of chips) {
              expect(c.externalPending).toBe(source(c));
              if (c.externalPending && c.vsFileCpu >= 0) upInVsFile++;
              else if (c.externalPending) upInSwFile++;
            }
          }
        },
      ),
      { numRuns: 200 },
    );
    expect(upInVsFile).toBeGreaterThan(0);
    expect(upInSwFile).toBeGreaterThan(0);
  });
});
