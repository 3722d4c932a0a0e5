import { GuestMemory, IrqlabError } from "@irqlab/sim";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { itsCommand as cmd } from "../its/its-command-encoding.js";
import { ITS_MSI_DELIVERED, ITS_MSI_DELIVERED_VIRTUAL } from "../its/its-commands.js";
import { FakeLpiTarget, ItsHarness, RAM_BASE, RAM_SIZE, ittOf } from "../its/its-test-kit.js";
import { SharedVlpiError, VlpiForwarding, type VlpiMapProfile, VlpiMapError } from "./vlpi-map.js";
import { VpeTable } from "./vpe.js";

/**
 * The host of seed 001: a passthrough virtio-scsi function, DeviceID 0x10,
 * seven MSI-X vectors (EventIDs 0..6) mapped as host LPIs 8192..8198 on RD 0.
 * The guest driver wrote the same MSI data into entries 1..6, so KVM asks to
 * forward six host interrupts to one vLPI (vINTID 8193 of vPE 0).
 */
function host(profile: VlpiMapProfile) {
  const memory = new GuestMemory();
  memory.addRam(RAM_BASE, RAM_SIZE);
  const target = new FakeLpiTarget(2);
  const vpes = new VpeTable({ memory });
  const h = new ItsHarness({ profile: "linux-kvm", vpes, memory, target });
  h.submit(cmd.mapd(0x10, ittOf(0x10), 2), cmd.mapc(0, 0));
  for (let ev = 0; ev < 7; ev++) h.submit(cmd.mapti(0x10, ev, 8192 + ev, 0));
  h.submit(cmd.vmapp({ vpeId: 0, rd: 1, vptAddr: RAM_BASE + 0x300_0000, vptIdBits: 16, vconfAddr: 0, doorbell: 1023, alloc: true, ptz: true }));
  const fwd = new VlpiForwarding({ its: h.its, vpes, profile });
  return { h, vpes, fwd };
}

const dev = (eventId: number) => ({ deviceId: 0x10, eventId });

describe("its_map_vlpi / its_unmap_vlpi", () => {
  it("forwards a host LPI to a vLPI and back", () => {
    const { h, vpes, fwd } = host("strict");
    fwd.mapVlpi(dev(0), { vpeId: 0, vintid: 8192 });
    expect(fwd.isForwarded(dev(0))).toBe(true);
    expect(h.its.translate(0x10, 0)).toBe(ITS_MSI_DELIVERED_VIRTUAL);
    expect(vpes.get(0)!.isPending(8192)).toBe(true);
    expect(h.target.pendingList()).toEqual([]);
    fwd.unmapVlpi(dev(0));
    expect(fwd.isForwarded(dev(0))).toBe(false);
    expect(h.its.translate(0x10, 0)).toBe(ITS_MSI_DELIVERED);
    expect(h.target.pendingList()).toEqual(["0:8192"]);
  });

  it("mapping a forwarded host IRQ again to another vPE retargets it (VMOVI)", () => {
    const { h, vpes, fwd } = host("strict");
    h.submit(cmd.vmapp({ vpeId: 1, rd: 1, vptAddr: RAM_BASE + 0x320_0000, vptIdBits: 16, vconfAddr: 0, doorbell: 1023 }));
    fwd.mapVlpi(dev(1), { vpeId: 0, vintid: 8300 });
    h.its.translate(0x10, 1);
    fwd.mapVlpi(dev(1), { vpeId: 1, vintid: 8300 });
    expect(vpes.get(1)!.isPending(8300)).toBe(true);
    expect(vpes.get(0)!.isPending(8300)).toBe(false);
    expect(fwd.hostIrqsOf(1, 8300)).toEqual([dev(1)]);
    expect(fwd.hostIrqsOf(0, 8300)).toEqual([]);
  });

  it("refuses with EINVAL what Linux refuses", () => {
    const { fwd } = host("strict");
    const err = (f: () => void) => {
      try {
        f();
      } catch (e) {
        return e;
      }
      return undefined;
    };
    const e1 = err(() => fwd.unmapVlpi(dev(3)));
    expect(e1).toBeInstanceOf(VlpiMapError);
    expect((e1 as VlpiMapError).code).toBe("EINVAL");
    expect((e1 as VlpiMapError).errno).toBe(-22);
    expect(() => fwd.mapVlpi(dev(3), { vpeId: 9, vintid: 8192 })).toThrow(/vPE 9 is not mapped/);
    expect(() => fwd.mapVlpi({ deviceId: 0x11, eventId: 0 }, { vpeId: 0, vintid: 8192 })).toThrow(/not a mapped physical LPI/);
    expect(() => fwd.mapVlpi(dev(3), { vpeId: 0, vintid: 70000 })).toThrow(/outside the VPT/);
  });
});

describe("seed 001: six host interrupts onto one vLPI", () => {
  it("strict: the second host IRQ is refused with a typed EBUSY error naming both", () => {
    const { h, fwd } = host("strict");
    fwd.mapVlpi(dev(1), { vpeId: 0, vintid: 8193 });
    let caught: unknown;
    try {
      fwd.mapVlpi(dev(2), { vpeId: 0, vintid: 8193 });
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(SharedVlpiError);
    const e = caught as SharedVlpiError;
    expect([e.code, e.errno, e.vintid, e.vpeId]).toEqual(["EBUSY", -16, 8193, 0]);
    expect(e.existing).toEqual(dev(1));
    expect(IrqlabError.isInstance(e)).toBe(true);
    // The refused host IRQ stays an ordinary host LPI (KVM then injects it in software).
    expect(h.its.translate(0x10, 2)).toBe(ITS_MSI_DELIVERED);
    expect(h.target.pendingList()).toEqual(["0:8194"]);
    expect(fwd.violations()).toEqual([]);
  });

  it("permissive-shared-vlpi: all six map, each violation is recorded, and one unmap leaves five forwarded", () => {
    const { h, vpes, fwd } = host("permissive-shared-vlpi");
    for (let ev = 1; ev <= 6; ev++) fwd.mapVlpi(dev(ev), { vpeId: 0, vintid: 8193 });
    expect(fwd.hostIrqsOf(0, 8193)).toHaveLength(6);
    expect(fwd.violations()).toHaveLength(5);
    expect(h.tracer.counters.get("vlpi:shared-violation")).toBe(5);
    expect(fwd.violations()[4]).toEqual({ vpeId: 0, vintid: 8193, existing: [1, 2, 3, 4, 5].map(dev), added: dev(6) });
    // The 2023 reboot: KVM called its_unmap_vlpi for the first host IRQ only.
    fwd.unmapVlpi(dev(1));
    for (let ev = 1; ev <= 6; ev++) h.its.translate(0x10, ev);
    // Host IRQs 2..6 still hit the vLPI of a guest that no longer expects them.
    expect(vpes.get(0)!.isPending(8193)).toBe(true);
    expect(h.target.pendingList()).toEqual(["0:8193"]);
    expect(fwd.hostIrqsOf(0, 8193)).toHaveLength(5);
  });

  it("snapshots round-trip the forwarding bookkeeping", () => {
    const { h, vpes, fwd } = host("permissive-shared-vlpi");
    for (let ev = 1; ev <= 3; ev++) fwd.mapVlpi(dev(ev), { vpeId: 0, vintid: 8193 });
    const s = JSON.parse(JSON.stringify(fwd.state())) as ReturnType<VlpiForwarding["state"]>;
    const fwd2 = new VlpiForwarding({ its: h.its, vpes, profile: "permissive-shared-vlpi" });
    fwd2.loadState(s);
    expect(fwd2.state()).toEqual(fwd.state());
    fwd2.unmapVlpi(dev(2));
    expect(fwd2.hostIrqsOf(0, 8193)).toEqual([dev(1), dev(3)]);
    expect(() => new VlpiForwarding({ its: h.its, vpes, profile: "lax" as VlpiMapProfile })).toThrow(/'lax'/);
    expect(() => new VlpiForwarding({ its: h.its, vpes: new VpeTable() })).toThrow(/not built with this VpeTable/);
  });
});

describe("properties", () => {
  it("strict: random map/unmap keeps at most one host IRQ per vLPI, and every MSI goes where the bookkeeping says", () => {
    const opArb = fc.oneof(
      fc.record({ kind: fc.constant("map" as const), ev: fc.integer({ min: 0, max: 6 }), vintid: fc.integer({ min: 8192, max: 8195 }) }),
      fc.record({ kind: fc.constant("unmap" as const), ev: fc.integer({ min: 0, max: 6 }) }),
    );
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 40 }), (ops) => {
        const { h, vpes, fwd } = host("strict");
        for (const op of ops) {
          try {
            if (op.kind === "map") fwd.mapVlpi(dev(op.ev), { vpeId: 0, vintid: op.vintid });
            else fwd.unmapVlpi(dev(op.ev));
          } catch (e) {
            expect(e).toBeInstanceOf(VlpiMapError);
          }
        }
        for (let v = 8192; v <= 8195; v++) expect(fwd.hostIrqsOf(0, v).length).toBeLessThanOrEqual(1);
        for (let ev = 0; ev < 7; ev++) {
          const r = h.its.translate(0x10, ev);
          expect(r).toBe(fwd.isForwarded(dev(ev)) ? ITS_MSI_DELIVERED_VIRTUAL : ITS_MSI_DELIVERED);
        }
        // Physical LPIs come back on their own pINTID (8192 + EventID) after an unmap.
        for (const p of h.target.pendingList()) expect(fwd.isForwarded(dev(Number(p.split(":")[1]) - 8192))).toBe(false);
        expect(vpes.get(0)!.pendingCount).toBe(new Set([0, 1, 2, 3, 4, 5, 6].filter((e) => fwd.isForwarded(dev(e))).map((e) => fwd.state().forwarded.find((f) => f.eventId === e)!.vintid)).size);
      }),
      { numRuns: 80 },
    );
  });
});
