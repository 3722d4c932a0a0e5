import { describe, expect, it } from "vitest";
import { GICV4_BEHAVIOURS } from "./vgic-v4-forwarding.js";
import { runSeed001 } from "./seed-001.js";

/**
 * Seed 001 ("GICv4: Support shared VLPI", reference/gic.md §4a): seven MSI-X vectors,
 * entries 1–6 share one vLPI, then the guest reboots.
 */
describe("seed 001: six host interrupts onto one vLPI, then a guest reset", () => {
  it("linux-6.6 (the 2023 code): six map calls, six WARNs, one unmap, five host IRQs still firing, guest hang", () => {
    const r = runSeed001("linux-6.6");
    // Every set_forwarding maps: 7 its_map_vlpi calls, 6 of them onto vLPI 8193 (5 break the 1:1 rule).
    expect([r.forwardedBefore, r.sharedForwarded, r.mapCalls, r.violations, r.refused]).toEqual([7, 6, 7, 5, 0]);
    expect(r.ownersOfSharedVlpi).toEqual([6]); // irq->host_irq is overwritten by the latest
    expect([r.directBefore, r.softwareBefore, r.takenBefore]).toEqual([7, 0, 2]);
    // Thread: "WARN_ON will also be triggered 6 times. But its_unmap_vlpi will only be executed the first time."
    // Unmaps: host irq of entry 0 (clean) and entry 1 (first of the shared ones).
    expect([r.warns, r.unmapCalls]).toEqual([6, 2]);
    // "the remaining 5 host irqs may still send interrupts. This causes the guest to hang."
    expect([r.forwardedAfter, r.firingAfter]).toEqual([5, 5]);
    expect(r.unexpectedAfter).toBe(1); // vLPI 8193 pending once more, into firmware that mapped nothing
    expect(r.guestHang).toBe(true);
  });

  it("linux-6.16: one host IRQ per vLPI, the other five stay software-injected; reset leaves nothing mapped", () => {
    const r = runSeed001("linux-6.16");
    expect([r.forwardedBefore, r.sharedForwarded, r.mapCalls, r.violations, r.refused]).toEqual([2, 1, 2, 0, 5]);
    expect(r.ownersOfSharedVlpi).toEqual([1]);
    // Entries 2..6 go host handler → irqfd → vITS → (vLPI is hw) → INT on the host ITS: still one vLPI.
    expect([r.directBefore, r.softwareBefore, r.takenBefore]).toEqual([2, 5, 2]);
    expect([r.warns, r.unmapCalls]).toEqual([0, 2]);
    expect([r.forwardedAfter, r.firingAfter, r.unexpectedAfter]).toEqual([0, 0, 0]);
    expect(r.guestHang).toBe(false);
  });

  it("rfc-shared-vlpi: all six mapped with five recorded 1:1 violations; every unset unmaps its own", () => {
    const r = runSeed001("rfc-shared-vlpi");
    expect([r.forwardedBefore, r.sharedForwarded, r.mapCalls, r.violations, r.refused]).toEqual([7, 6, 7, 5, 0]);
    expect(r.ownersOfSharedVlpi).toEqual([1, 2, 3, 4, 5, 6]);
    expect([r.directBefore, r.softwareBefore, r.takenBefore]).toEqual([7, 0, 2]);
    expect([r.warns, r.unmapCalls]).toEqual([0, 7]);
    expect([r.forwardedAfter, r.firingAfter, r.unexpectedAfter, r.guestHang]).toEqual([0, 0, 0, false]);
  });

  it("is deterministic and covers every behaviour", () => {
    for (const b of GICV4_BEHAVIOURS) expect(runSeed001(b)).toEqual(runSeed001(b));
  });
});
