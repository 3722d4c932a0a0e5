import { GICV4_BEHAVIOURS } from "@irqlab/kvm";
import type { InstantEvent } from "@irqlab/sim";
import { describe, expect, it } from "vitest";
import { findScenario } from "../registry.js";
import { sharedVlpiScenario } from "./scenario.js";
import { runSharedVlpi } from "./shared-vlpi.js";

/**
 * Seed 001 ("GICv4: Support shared VLPI", kvmarm, November 2023): seven MSI-X vectors,
 * entries 1–6 share one vLPI, then the guest reboots.
 */
describe("seed 001: six host interrupts onto one vLPI, then a guest reset", () => {
  it("linux-6.6 (the 2023 code): six map calls onto the shared vLPI, six WARNs, one unmap of them, five still firing, hang", () => {
    const r = runSharedVlpi("linux-6.6");
    // Every set_forwarding maps: 7 its_map_vlpi calls, 6 of them onto vLPI 8193 (5 break the 1:1 rule).
    expect([r.forwardedBefore, r.sharedForwarded, r.mapCalls, r.violations, r.refused]).toEqual([7, 6, 7, 5, 0]);
    expect(r.ownersOfSharedVlpi).toEqual([6]); // irq->host_irq is overwritten by the latest
    expect([r.directBefore, r.softwareBefore, r.takenBefore]).toEqual([7, 0, 2]);
    // Thread: "WARN_ON will also be triggered 6 times. But its_unmap_vlpi will only be executed the first time."
    // Unmaps: the host irq of entry 0 (clean) and of entry 1 (first of the shared ones).
    expect([r.warns, r.unmapCalls]).toEqual([6, 2]);
    // "the remaining 5 host irqs may still send interrupts. This causes the guest to hang."
    expect([r.forwardedAfter, r.firingAfter]).toEqual([5, 5]);
    expect(r.unexpectedAfter).toBe(1); // vLPI 8193 pending once more, into firmware that mapped nothing
    expect(r.guestHang).toBe(true);
  });

  it("linux-6.16: one host irq per vLPI, the other five stay software-injected; the reset leaves nothing mapped", () => {
    const r = runSharedVlpi("linux-6.16");
    expect([r.forwardedBefore, r.sharedForwarded, r.mapCalls, r.violations, r.refused]).toEqual([2, 1, 2, 0, 5]);
    expect(r.ownersOfSharedVlpi).toEqual([1]);
    // Entries 2..6 go host handler → irqfd → vITS → (vLPI is hw) → INT on the host ITS: still one vLPI.
    expect([r.directBefore, r.softwareBefore, r.takenBefore]).toEqual([2, 5, 2]);
    expect([r.warns, r.unmapCalls]).toEqual([0, 2]);
    expect([r.forwardedAfter, r.firingAfter, r.unexpectedAfter, r.guestHang]).toEqual([0, 0, 0, false]);
  });

  it("rfc-shared-vlpi: all six mapped with five 1:1 violations; every unset unmaps its own", () => {
    const r = runSharedVlpi("rfc-shared-vlpi");
    expect([r.forwardedBefore, r.sharedForwarded, r.mapCalls, r.violations, r.refused]).toEqual([7, 6, 7, 5, 0]);
    expect(r.ownersOfSharedVlpi).toEqual([1, 2, 3, 4, 5, 6]);
    expect([r.directBefore, r.softwareBefore, r.takenBefore]).toEqual([7, 0, 2]);
    expect([r.warns, r.unmapCalls]).toEqual([0, 7]);
    expect([r.forwardedAfter, r.firingAfter, r.unexpectedAfter, r.guestHang]).toEqual([0, 0, 0, false]);
  });

  it("is deterministic under every behaviour", () => {
    for (const b of GICV4_BEHAVIOURS) expect(runSharedVlpi(b)).toEqual(runSharedVlpi(b));
  });
});

describe("the shared-vlpi scenario (full machine runs)", () => {
  const rows = Object.fromEntries(sharedVlpiScenario.remedies.map((m) => [m.name, sharedVlpiScenario.run(m.name, { seed: 1 })]));

  it("lists linux-6.6, the RFC and linux-6.16 in that order, with one value per column", () => {
    expect(sharedVlpiScenario.remedies.map((m) => m.name)).toEqual(["linux-6.6", "rfc-shared-vlpi", "linux-6.16"]);
    for (const row of Object.values(rows)) {
      expect(Object.keys(row.values).sort()).toEqual(sharedVlpiScenario.columns.map((c) => c.key).sort());
    }
  });

  it("leaves mappings behind only under linux-6.6, flags the RFC as a 1:1 violation, keeps linux-6.16 clean", () => {
    // Every irqfd is set up once: 7 map calls, five of them onto a vLPI that already has a host irq.
    expect(rows["linux-6.6"]!.values).toMatchObject({ mapCalls: 7, violations: 5, stillMapped: 5, stillFiring: 5, hang: true });
    expect(rows["linux-6.6"]!.verdict).toMatch(/fire into the firmware \(5 unexpected interrupts\): the guest hangs/);
    expect(rows["rfc-shared-vlpi"]!.values).toMatchObject({ mapCalls: 7, unmapCalls: 7, stillMapped: 0, stillFiring: 0, hang: false, violations: 5 });
    expect(rows["rfc-shared-vlpi"]!.verdict).toMatch(/1:1 rule is broken/);
    expect(rows["linux-6.16"]!.values).toMatchObject({ mapCalls: 2, refused: 5, stillMapped: 0, stillFiring: 0, hang: false, violations: 0 });
  });

  it("vfio-pci deassigns its irqfds before the vITS reset (QEMU's reset order): six WARNs, as in the thread and the kvm-level replay", () => {
    const notes = rows["linux-6.6"]!.notes;
    // Thread: "kvm_vgic_v4_unset_forwarding will be execute 6 times. WARN_ON will also be triggered 6 times."
    expect(rows["linux-6.6"]!.values).toMatchObject({ warns: 6, unmapCalls: 2 });
    expect(rows["rfc-shared-vlpi"]!.values.warns).toBe(0);
    expect(rows["linux-6.16"]!.values.warns).toBe(0);
    expect(notes[1]).toMatch(/^at the reboot the VMM did: KVM_IRQFD vfio-pci.0 vector 0 deassign, .*vector 6 deassign, ITS CTRL_RESET$/);
    expect(notes[2]).toMatch(/7 map calls, 6 WARNs, 2 unmaps, 5 still mapped, 5 1:1 violations/);
    expect(notes[0]).toMatch(/^driver: 6 of 6 queues completed; firmware: 5 unexpected interrupts \(LPI 8193 x5\)/);
  });

  it("traces on request without changing the row, and rejects an unknown remedy", { timeout: 30_000 }, () => {
    const { tracer, ...rest } = sharedVlpiScenario.run("linux-6.16", { seed: 1, trace: true });
    expect(rest).toEqual(rows["linux-6.16"]);
    const instants = tracer!.events().filter((e): e is InstantEvent => e.phase === "instant");
    // Every interrupt the guest takes — vLPIs injected directly by the host ITS, or through the
    // host handler's irqfd — ends the flow begun where the device's MSI write reached the host ITS.
    const begun = new Set(instants.filter((e) => e.name === "msi-write" && e.flowOut !== undefined).map((e) => e.flowOut));
    const taken = instants.filter((e) => e.name === "irq-taken");
    expect(taken.length).toBeGreaterThan(0);
    expect(taken.filter((e) => e.flowIn === undefined || !begun.has(e.flowIn))).toEqual([]);
    expect(() => sharedVlpiScenario.run("linux-5.4", { seed: 1 })).toThrow(/has no remedy 'linux-5.4'/);
  });

  it("is registered as seed 001", () => {
    expect(findScenario("001")).toBe(sharedVlpiScenario);
    expect(findScenario("shared-vlpi")).toBe(sharedVlpiScenario);
  });
});
