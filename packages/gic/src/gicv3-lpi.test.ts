// One redistributor's LPI cache (gicv3-lpi.ts): what EnableLPIs reads, what
// INVALL rereads, and what a faulting table read leaves. IHI 0069H §5.1.1
// (the configuration table: priority in bits [7:2], enable in bit 0),
// §12.11.34 (GICR_PROPBASER.IDbits: INTIDs below 2^(IDbits + 1)).
import { GuestMemory } from "@irqlab/sim";
import { describe, expect, test } from "vitest";
import { LpiRedistributor } from "./gicv3-lpi.js";

const RAM = 0x4000_0000;
const PROP = RAM + 0x10_0000;
const PEND = RAM + 0x20_0000;
/** PENDBASER.PTZ: the pending table is all zeros, so it is not read. */
const PTZ = 1 << 30;
const LPI = 8192;

function rig(idBits: number) {
  const mem = new GuestMemory();
  mem.addRam(RAM, 4 << 20);
  const r = new LpiRedistributor();
  r.propLo = PROP | (idBits - 1);
  r.pendLo = PEND;
  r.pendHi = PTZ;
  const faults: string[] = [];
  const fault = (what: string): void => {
    faults.push(what);
  };
  return { mem, r, faults, fault };
}

describe("LpiRedistributor", () => {
  test("takes no cache until EnableLPIs: nothing is in range, pending or eligible", () => {
    const { r } = rig(14);
    expect(r.config).toBeUndefined();
    expect(r.pending).toBeUndefined();
    expect(r.inRange(LPI)).toBe(false);
    expect(r.configByte(LPI)).toBe(0);
    expect(r.isPending(LPI)).toBe(false);
    expect(r.highest(0xff, 0x100)).toBe(-1);
    expect(r.state().config).toEqual([]);
  });

  test("EnableLPIs reads the configuration bytes below the IDbits limit; a pending, enabled LPI is the highest", () => {
    const { mem, r, faults, fault } = rig(14); // 16384 INTIDs: bytes 0..8191 of the table
    mem.writeU8(PROP + 5, 0x80 | 1);
    mem.writeU8(PROP + 6, 0x40 | 1);
    mem.writeU8(PROP + 8191, 0x20 | 1);
    r.enable(mem, fault);
    expect(faults).toEqual([]);
    expect(r.limit).toBe(1 << 14);
    expect(r.configByte(LPI + 5)).toBe(0x81);
    expect(r.configByte(LPI + 8191)).toBe(0x21);
    expect(r.inRange(1 << 14)).toBe(false);
    expect(r.setPending(LPI + 5, true)).toBe(true);
    expect(r.setPending(LPI + 6, true)).toBe(true);
    expect(r.eligibleCount).toBe(2);
    // Lower priority value wins: LPI 8198 (0x40) over LPI 8197 (0x80).
    expect(r.highest(0xff, 0x100)).toBe(LPI + 6);
    expect(r.state().config.length).toBe(8192);
  });

  test("a table edit is not seen until INVALL rereads it (the cache is what KVM and hardware keep)", () => {
    const { mem, r, fault } = rig(14);
    mem.writeU8(PROP + 5, 0x80 | 1);
    r.enable(mem, fault);
    r.setPending(LPI + 5, true);
    mem.writeU8(PROP + 5, 0x80); // the guest disables it in memory
    expect(r.highest(0xff, 0x100)).toBe(LPI + 5);
    r.invalidateAll(mem, fault);
    expect(r.eligibleCount).toBe(0);
    expect(r.highest(0xff, 0x100)).toBe(-1);
    expect(r.isPending(LPI + 5)).toBe(true);
  });

  test("INVALL from a table outside RAM leaves no byte of the earlier read, and says so", () => {
    const { mem, r, faults, fault } = rig(14);
    mem.writeU8(PROP + 5, 0x80 | 1);
    r.enable(mem, fault);
    r.setPending(LPI + 5, true);
    r.propLo = 0x1000_0000 | 13; // below RAM
    r.invalidateAll(mem, fault);
    expect(faults).toEqual(["configuration table read at 0x10000000 faulted"]);
    expect(r.configByte(LPI + 5)).toBe(0);
    expect(r.state().config.every((b) => b === 0)).toBe(true);
    expect(r.eligibleCount).toBe(0);
  });

  test("re-enabled with fewer IDbits, the bytes past the new limit are 0 and out of range", () => {
    const { mem, r, fault } = rig(15);
    mem.writeU8(PROP + 20_000, 0xa0 | 1);
    r.enable(mem, fault);
    expect(r.configByte(LPI + 20_000)).toBe(0xa1);
    r.disable();
    r.propLo = PROP | 13; // 16384 INTIDs
    r.enable(mem, fault);
    expect(r.inRange(LPI + 20_000)).toBe(false);
    expect(r.configByte(LPI + 20_000)).toBe(0);
    expect(r.config![20_000]).toBe(0);
  });

  test("disable drops pending LPIs; enabling again takes the pending table's bits back, eligible where enabled", () => {
    const { mem, r, fault } = rig(14);
    mem.writeU8(PROP + 1, 0xa0 | 1);
    mem.writeU8(PROP + 2, 0xa0);
    r.enable(mem, fault);
    r.setPending(LPI + 1, true);
    r.disable();
    expect(r.isPending(LPI + 1)).toBe(false);
    expect(r.eligibleCount).toBe(0);
    // The pending table (after its first 1 KiB) has INTIDs 8193 and 8194 set.
    mem.writeU32(PEND + 1024, 0b110);
    r.pendHi = 0;
    r.enable(mem, fault);
    expect(r.isPending(LPI + 1)).toBe(true);
    expect(r.isPending(LPI + 2)).toBe(true);
    expect(r.eligibleCount).toBe(1);
    expect(r.highest(0xff, 0x100)).toBe(LPI + 1);
  });

  test("a snapshot restores the cache, pending bits and eligibility; one never enabled restores without a cache", () => {
    const { mem, r, fault } = rig(14);
    mem.writeU8(PROP + 3, 0x60 | 1);
    r.enable(mem, fault);
    r.setPending(LPI + 3, true);
    const copy = new LpiRedistributor();
    copy.load(r.state());
    expect(copy.configByte(LPI + 3)).toBe(0x61);
    expect(copy.eligibleCount).toBe(1);
    expect(copy.highest(0xff, 0x100)).toBe(LPI + 3);
    copy.load(new LpiRedistributor().state());
    expect(copy.config).toBeUndefined();
    expect(copy.eligibleCount).toBe(0);
    expect(copy.highest(0xff, 0x100)).toBe(-1);
  });

  test("a table as Linux leaves it: every byte LPI_PROP_DEFAULT_PRIO | GROUP1, a few enabled, read back byte for byte", () => {
    // gic_reset_prop_table() (drivers/irqchip/irq-gic-v3-its.c) fills the table with 0xa2; unmasking an LPI sets bit 0.
    const { mem, r, fault } = rig(16);
    mem.fill(PROP, 1 << 16, 0xa2);
    const enabled = [0, 1022, 1023, 1024, 1025, 30_000, 57_343];
    for (const i of enabled) mem.writeU8(PROP + i, 0xa3);
    mem.writeU8(PROP + 4096, 0x12); // one other value, unlike every byte around it
    r.enable(mem, fault);
    for (let i = 0; i < 57_344; i++) {
      const want = i === 4096 ? 0x12 : enabled.includes(i) ? 0xa3 : 0xa2;
      if (r.configByte(LPI + i) !== want) expect(`byte ${i}: ${r.configByte(LPI + i)}`).toBe(`byte ${i}: ${want}`);
    }
    expect(r.state().config.length).toBe(57_344);
  });

  test("INV of one LPI changes that redistributor's byte alone: another that read the same table keeps its own", () => {
    const { mem, fault } = rig(16);
    mem.fill(PROP, 1 << 16, 0xa2);
    const a = new LpiRedistributor();
    const b = new LpiRedistributor();
    for (const r of [a, b]) {
      r.propLo = PROP | 15;
      r.pendLo = PEND;
      r.pendHi = PTZ;
      r.enable(mem, fault);
    }
    mem.writeU8(PROP + 2000, 0xa3);
    expect(a.invalidate(LPI + 2000, mem, fault)).toBe(false); // enabled, not pending
    expect(a.configByte(LPI + 2000)).toBe(0xa3);
    expect(a.configByte(LPI + 2001)).toBe(0xa2);
    expect(b.configByte(LPI + 2000)).toBe(0xa2);
    b.setPending(LPI + 2000, true);
    expect(b.eligibleCount).toBe(0);
    // The guest masks it again and INVALLs: both read the same bytes once more.
    mem.writeU8(PROP + 2000, 0xa2);
    a.invalidateAll(mem, fault);
    expect(a.configByte(LPI + 2000)).toBe(0xa2);
    mem.writeU8(PROP + 2000, 0xa3);
    b.invalidateAll(mem, fault);
    expect(b.eligibleCount).toBe(1);
    expect(a.configByte(LPI + 2000)).toBe(0xa2);
  });
});
