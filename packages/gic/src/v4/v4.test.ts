import { GuestMemory } from "@irqlab/sim";
import { describe, expect, it } from "vitest";
import { itsCommand as cmd } from "../its/its-command-encoding.js";
import { ITS_MSI_DELIVERED_VIRTUAL } from "../its/its-commands.js";
import type { ItsProfileName } from "../its/its-profiles.js";
import { FakeLpiTarget, ItsHarness, RAM_BASE, RAM_SIZE, ittOf } from "../its/its-test-kit.js";
import {
  GICR_VPENDBASER,
  GICR_VPENDBASER_HI_DB,
  GICR_VPENDBASER_HI_PENDING_LAST,
  GICR_VPENDBASER_HI_VALID,
  GicrVlpiFrame,
} from "./gicr-vlpi-frame.js";
import { VpeTable } from "./vpe.js";

const VCONF = RAM_BASE + 0x300_0000;
const VPT = RAM_BASE + 0x310_0000;
const DOORBELL = 8500;

function setup(profile: ItsProfileName = "qemu") {
  const memory = new GuestMemory();
  memory.addRam(RAM_BASE, RAM_SIZE);
  const target = new FakeLpiTarget(4);
  const rings: [number, number, number][] = [];
  const kicks: [number, number, number][] = [];
  const vpes = new VpeTable({
    memory,
    doorbellTarget: target,
    doorbell: (vpe, db, rd) => rings.push([vpe, db, rd]),
    onResidentVlpi: (rd, vpe, vintid) => kicks.push([rd, vpe, vintid]),
  });
  // vLPI configuration table: priority 0xA0, enabled, for vINTIDs 8192..8299.
  for (let i = 0; i < 108; i++) memory.writeU8(VCONF + i, 0xa0 | 3);
  const h = new ItsHarness({ profile, vpes, memory, target });
  h.submit(
    cmd.mapd(1, ittOf(1), 3),
    cmd.vmapp({ vpeId: 5, rd: 2, vptAddr: VPT, vptIdBits: 16, vconfAddr: VCONF, doorbell: DOORBELL, alloc: true, ptz: true }),
    cmd.vmapp({ vpeId: 6, rd: 3, vptAddr: VPT + 0x10000, vptIdBits: 16, vconfAddr: VCONF, doorbell: 1023, alloc: true, ptz: true }),
    cmd.vmapti(1, 3, 5, 8200),
    cmd.vmapti(1, 4, 5, 8201),
  );
  const frames = [0, 1, 2, 3].map((rd) => new GicrVlpiFrame({ vpes, rd, tracer: h.tracer }));
  return { h, vpes, frames, rings, kicks, memory, target };
}

function schedule(f: GicrVlpiFrame, vpeId: number): void {
  f.write(GICR_VPENDBASER, 8, vpeId, GICR_VPENDBASER_HI_VALID);
}

function deschedule(f: GicrVlpiFrame, doorbell: boolean): number {
  f.write(GICR_VPENDBASER, 8, 0, doorbell ? GICR_VPENDBASER_HI_DB : 0);
  const w = { hi: 0 };
  f.read(GICR_VPENDBASER, 8, w);
  return w.hi;
}

describe.each(["qemu", "linux-kvm"] as const)("GICv4.1 direct injection (%s tables)", (profile) => {
  it("an MSI for a VMAPTI'd event pends the vLPI; the resident vPE shows it to the virtual CPU interface", () => {
    const { h, vpes, frames, kicks } = setup(profile);
    expect(h.its.commandErrors).toBe(0);
    expect(h.its.translate(1, 3)).toBe(ITS_MSI_DELIVERED_VIRTUAL);
    expect(vpes.get(5)!.isPending(8200)).toBe(true);
    expect(h.target.pendingList()).toEqual([]); // no physical LPI
    const rd2 = frames[2]!;
    expect(rd2.highestPendingVlpi()).toBe(-1);
    schedule(rd2, 5);
    expect(rd2.resident?.id).toBe(5);
    expect(rd2.highestPendingVlpi()).toBe(8200);
    expect(rd2.vlpiPriority(8200)).toBe(0xa0);
    h.msi(1, 4);
    expect(kicks).toEqual([[2, 5, 8201]]);
    rd2.acknowledgeVlpi(8200);
    expect(rd2.highestPendingVlpi()).toBe(8201);
    rd2.acknowledgeVlpi(8201);
    expect(rd2.highestPendingVlpi()).toBe(-1);
  });

  it("a non-resident vPE that asked for a doorbell rings it once (v4.1 default doorbell)", () => {
    const { h, frames, rings, target } = setup(profile);
    const rd2 = frames[2]!;
    schedule(rd2, 5);
    expect(deschedule(rd2, true) & GICR_VPENDBASER_HI_PENDING_LAST).toBe(0);
    h.msi(1, 3);
    h.msi(1, 4);
    expect(rings).toEqual([[5, DOORBELL, 2]]);
    expect(target.pendingList()).toEqual([`2:${DOORBELL}`]);
    schedule(rd2, 5);
    expect(rd2.highestPendingVlpi()).toBe(8200);
  });

  it("without a doorbell request nothing rings; PendingLast reports pending vLPIs at deschedule", () => {
    const { h, frames, rings } = setup(profile);
    const rd2 = frames[2]!;
    schedule(rd2, 5);
    expect(deschedule(rd2, false) & GICR_VPENDBASER_HI_PENDING_LAST).toBe(0);
    h.msi(1, 3);
    expect(rings).toEqual([]);
    schedule(rd2, 5);
    expect(deschedule(rd2, true) & GICR_VPENDBASER_HI_PENDING_LAST).toBe(GICR_VPENDBASER_HI_PENDING_LAST);
    // Pending at deschedule with a doorbell requested: it rings at once.
    expect(rings).toEqual([[5, DOORBELL, 2]]);
  });

  it("refuses to schedule a vPE on another RD, an unmapped vPE, or one already resident", () => {
    const { h, frames } = setup(profile);
    schedule(frames[1]!, 5);
    schedule(frames[1]!, 77);
    schedule(frames[2]!, 5);
    schedule(frames[3]!, 6);
    expect(frames[1]!.resident).toBeUndefined();
    expect(frames[2]!.resident?.id).toBe(5);
    expect(h.errorCount("gicr-vlpi:vpendbaser")).toBe(2);
  });

  it("VMOVI moves a pending vLPI to another vPE; VMOVP moves a vPE to another RD", () => {
    const { h, vpes, frames } = setup(profile);
    h.msi(1, 3);
    h.submit(cmd.vmovi(1, 3, 6));
    expect(vpes.get(5)!.isPending(8200)).toBe(false);
    expect(vpes.get(6)!.isPending(8200)).toBe(true);
    h.submit(cmd.vmovp(6, 0));
    schedule(frames[0]!, 6);
    expect(frames[0]!.highestPendingVlpi()).toBe(8200);
    expect(h.its.commandErrors).toBe(0);
  });

  it("VINVALL and INV reload the vLPI configuration from the VConf table", () => {
    const { h, frames, memory } = setup(profile);
    const rd2 = frames[2]!;
    schedule(rd2, 5);
    h.msi(1, 3);
    memory.writeU8(VCONF + 8, 0xa0); // vINTID 8200 disabled
    expect(rd2.highestPendingVlpi()).toBe(8200);
    h.submit(cmd.vinvall(5));
    expect(rd2.highestPendingVlpi()).toBe(-1);
    memory.writeU8(VCONF + 8, 0x20 | 3);
    h.submit(cmd.inv(1, 3));
    expect(rd2.vlpiPriority(8200)).toBe(0x20);
    expect(rd2.highestPendingVlpi()).toBe(8200);
  });

  it("picks the highest priority, then the lowest vINTID", () => {
    const { h, frames, memory } = setup(profile);
    memory.writeU8(VCONF + 9, 0x40 | 3);
    h.submit(cmd.vinvall(5), cmd.vmapti(1, 5, 5, 8210), cmd.vmapti(1, 6, 5, 8205));
    memory.writeU8(VCONF + 13, 0x40 | 3);
    h.submit(cmd.inv(1, 6));
    for (const ev of [3, 4, 5, 6]) h.msi(1, ev);
    schedule(frames[2]!, 5);
    const order: number[] = [];
    for (let v = frames[2]!.highestPendingVlpi(); v >= 0; v = frames[2]!.highestPendingVlpi()) {
      order.push(v);
      frames[2]!.acknowledgeVlpi(v);
    }
    expect(order).toEqual([8201, 8205, 8200, 8210]);
  });

  it("INT, CLEAR and DISCARD act on virtual ITEs", () => {
    const { h, vpes } = setup(profile);
    h.submit(cmd.int(1, 3));
    expect(vpes.get(5)!.isPending(8200)).toBe(true);
    h.submit(cmd.clear(1, 3));
    expect(vpes.get(5)!.isPending(8200)).toBe(false);
    h.submit(cmd.int(1, 3), cmd.discard(1, 3));
    expect(vpes.get(5)!.isPending(8200)).toBe(false);
    expect(h.its.translate(1, 3)).toBeLessThan(0);
  });

  it("checks the V* commands' parameters and skips bad ones", () => {
    const { h } = setup(profile);
    h.submit(
      cmd.vmapp({ vpeId: 7, rd: 9, vptAddr: VPT, vptIdBits: 16, vconfAddr: VCONF, doorbell: 1023 }),
      cmd.vmapp({ vpeId: 7, rd: 0, vptAddr: VPT, vptIdBits: 24, vconfAddr: VCONF, doorbell: 1023 }),
      cmd.vmapp({ vpeId: 7, rd: 0, vptAddr: VPT, vptIdBits: 16, vconfAddr: VCONF, doorbell: 100 }),
      cmd.vmapti(2, 0, 5, 8200),
      cmd.vmapti(1, 0, 5, 100),
      cmd.mapc(0, 0),
      cmd.mapti(1, 0, 8192, 0),
      cmd.vmovi(1, 0, 6),
      cmd.movi(1, 3, 0),
      cmd.vmovp(9, 0),
      cmd.vinvall(9),
    );
    expect(h.its.commandErrors).toBe(9);
    expect(h.its.errors().map((e) => e.detail)).toContain("VMAPP: RDbase 9 is not a redistributor");
  });

  it("VMAPI maps EventID as the vINTID; VSYNC of a known vPEID completes", () => {
    const { h, vpes } = setup(profile);
    h.submit(cmd.mapd(2, ittOf(2), 15), cmd.vmapi(2, 8250, 6), cmd.vsync(6));
    expect(h.its.commandErrors).toBe(0);
    expect(h.its.translate(2, 8250)).toBe(ITS_MSI_DELIVERED_VIRTUAL);
    expect(vpes.get(6)!.isPending(8250)).toBe(true);
  });

  it("VMAPP V=0 unmaps the vPE: its MSIs are dropped", () => {
    const { h, vpes } = setup(profile);
    h.submit(cmd.vmapp({ vpeId: 5, rd: 2, vptAddr: VPT, vptIdBits: 16, vconfAddr: VCONF, doorbell: 1023, valid: false }));
    expect(vpes.get(5)).toBeUndefined();
    expect(h.its.translate(1, 3)).toBeLessThan(0);
  });
});

describe("construction", () => {
  it("throws a ConfigError naming the bad value", () => {
    expect(() => new VpeTable({ vpeIdCount: 0 })).toThrow(/vpeIdCount 0/);
    expect(() => new VpeTable({ maxIdBits: 30 })).toThrow(/maxIdBits 30/);
    expect(() => new GicrVlpiFrame({ vpes: new VpeTable(), rd: -1 })).toThrow(/rd -1/);
  });
});

describe("snapshots", () => {
  it("round-trip the vPE table and the VLPI frames", () => {
    const { h, vpes, frames, memory } = setup();
    schedule(frames[2]!, 5);
    h.msi(1, 3);
    const json = JSON.parse(JSON.stringify({ vpes: vpes.state(), frame: frames[2]!.state() })) as {
      vpes: ReturnType<VpeTable["state"]>;
      frame: ReturnType<GicrVlpiFrame["state"]>;
    };
    const vpes2 = new VpeTable({ memory });
    vpes2.loadState(json.vpes);
    const frame2 = GicrVlpiFrame.fromState(json.frame, { vpes: vpes2, rd: 2 });
    expect(frame2.resident?.id).toBe(5);
    expect(frame2.highestPendingVlpi()).toBe(8200);
    expect(frame2.vlpiPriority(8200)).toBe(0xa0);
    expect(vpes2.state()).toEqual(vpes.state());
    expect(frame2.state()).toEqual(frames[2]!.state());
  });
});
