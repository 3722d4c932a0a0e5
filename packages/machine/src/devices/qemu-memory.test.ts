// QEMU's memory core as a device sees it: system/physmem.c memory_access_size()
// splitting, system/memory.c memory_region_access_valid() and
// access_with_adjusted_size().
import { describe, expect, test } from "vitest";
import { qemuAccessRules, qemuPieceSize, qemuRead, qemuWrite, type QemuAccessRules, type QemuRegionOps } from "./qemu-memory.js";

/** A region of 16 bytes b[i] = 0x10 + i that logs every device call. */
function recorder(rules: QemuAccessRules) {
  const bytes = Uint8Array.from({ length: 16 }, (_, i) => 0x10 + i);
  const calls: string[] = [];
  const ops: QemuRegionOps = {
    rules,
    opsRead(offset, size) {
      calls.push(`r${size}@${offset}`);
      let v = 0;
      for (let i = Math.min(size, 4) - 1; i >= 0; i--) v = (v << 8) | (bytes[offset + i] ?? 0);
      // Bits above the call's size are not the device's to return: 0xee there must not reach the guest.
      return (size >= 4 ? v : v | (0xeeeeeeee << (8 * size))) >>> 0;
    },
    opsWrite(offset, size, value) {
      calls.push(`w${size}@${offset}=${value.toString(16)}`);
    },
    opsInvalid(offset, size, write, reason) {
      calls.push(`invalid ${write ? "w" : "r"}${size}@${offset} ${reason}`);
    },
  };
  return { ops, calls };
}

describe("memory_access_size()", () => {
  test.each([
    // [validMax, remaining, offset, piece]
    [0, 8, 0, 4], // no valid.max: 4-byte pieces
    [0, 4, 2, 2], // bounded by the alignment of the offset
    [0, 3, 1, 1],
    [8, 8, 0, 8],
    [8, 8, 4, 4],
    [8, 3, 0, 2], // pow2floor
  ])("valid.max %i: %i bytes at %i → %i", (validMax, remaining, offset, piece) => {
    expect(qemuPieceSize(qemuAccessRules({ validMax }), remaining, offset)).toBe(piece);
  });
});

describe("qemuRead / qemuWrite", () => {
  const wide = { hi: 0 };

  test("impl 4..4 (PL011): a 1-byte read is a 4-byte device read at the unaligned offset, low byte kept", () => {
    const { ops, calls } = recorder(qemuAccessRules({ implMin: 4, implMax: 4 }));
    expect(qemuRead(ops, 5, 1, wide)).toBe(0x15);
    expect(calls).toEqual(["r4@5"]);
  });

  test("an unaligned 4-byte read becomes 1 + 2 + 1 byte pieces, reassembled little-endian", () => {
    const { ops, calls } = recorder(qemuAccessRules({}));
    expect(qemuRead(ops, 1, 4, wide)).toBe(0x14131211);
    expect(calls).toEqual(["r1@1", "r2@2", "r1@4"]);
  });

  test("an 8-byte read without valid.max is two 4-byte reads; high word in wide.hi", () => {
    const { ops, calls } = recorder(qemuAccessRules({}));
    expect(qemuRead(ops, 8, 8, wide)).toBe(0x1b1a1918);
    expect(wide.hi).toBe(0x1f1e1d1c);
    expect(calls).toEqual(["r4@8", "r4@12"]);
  });

  test("valid 4..8, impl max 4 (MSI-X table): 8 bytes is one piece of two device calls; 2 bytes is invalid and reads 0", () => {
    const { ops, calls } = recorder(qemuAccessRules({ validMin: 4, validMax: 8, implMax: 4 }));
    expect(qemuRead(ops, 0, 8, wide)).toBe(0x13121110);
    expect(qemuRead(ops, 0, 2, wide)).toBe(0);
    expect(calls).toEqual(["r4@0", "r4@4", "invalid r2@0 invalid size"]);
  });

  test("writes: pieces carry their bytes of the value; invalid pieces are dropped", () => {
    const { ops, calls } = recorder(qemuAccessRules({ validMin: 4, validMax: 8, implMax: 4 }));
    qemuWrite(ops, 0, 8, 0x44332211, 0x88776655);
    qemuWrite(ops, 0, 1, 0xff, 0);
    expect(calls).toEqual(["w4@0=44332211", "w4@4=88776655", "invalid w1@0 invalid size"]);
    const r = recorder(qemuAccessRules({ implMin: 4, implMax: 4 }));
    qemuWrite(r.ops, 3, 1, 0xab, 0);
    expect(r.calls).toEqual(["w4@3=ab"]);
  });

  test("the unassigned region rejects every piece", () => {
    const { ops, calls } = recorder(qemuAccessRules({ rejectAll: true }));
    expect(qemuRead(ops, 0, 8, wide)).toBe(0);
    expect(wide.hi).toBe(0);
    expect(calls).toEqual(["invalid r4@0 rejected", "invalid r4@4 rejected"]);
  });
});

describe("whole-size accesses (QemuAccessRules.wholeSizes)", () => {
  const wide = { hi: 0 };
  // The rules of the machine's devices, and the corners between them.
  const ruleSets = [
    {},
    { implMin: 4, implMax: 4 }, // PL011
    { validMax: 8, implMax: 8 }, // serial-mm (ns16550a)
    { validMin: 1, validMax: 4 }, // CPU hotplug
    { validMin: 4, validMax: 4 }, // ACPI GED
    { validMax: 8, implMax: 4 }, // PCI BARs
    { validMin: 4, validMax: 8, implMax: 4 }, // MSI-X table
    { validMin: 4, validMax: 4, implMin: 4, implMax: 4 },
    { validMax: 2 },
    { implMin: 2 },
    { implMax: 1 },
    { validMin: 2, validMax: 4, validUnaligned: true, implUnaligned: true },
    { rejectAll: true },
  ];

  test("the sizes an aligned access reaches the device whole at", () => {
    expect(qemuAccessRules({}).wholeSizes).toBe(1 | 2 | 4);
    expect(qemuAccessRules({ implMin: 4, implMax: 4 }).wholeSizes).toBe(4);
    expect(qemuAccessRules({ validMin: 4, validMax: 8, implMax: 4 }).wholeSizes).toBe(4);
    expect(qemuAccessRules({ validMax: 2 }).wholeSizes).toBe(1 | 2);
    expect(qemuAccessRules({ rejectAll: true }).wholeSizes).toBe(0);
  });

  test.each(ruleSets.map((r) => [JSON.stringify(r), r] as const))("%s: every access makes the calls and value of the piece-by-piece path", (_name, fields) => {
    const rules = qemuAccessRules(fields);
    const general: QemuAccessRules = { ...rules, wholeSizes: 0 };
    for (let offset = 0; offset < 8; offset++) {
      for (const len of [1, 2, 4, 8]) {
        const a = recorder(rules);
        const b = recorder(general);
        const va = qemuRead(a.ops, offset, len, wide);
        const ha = wide.hi;
        const vb = qemuRead(b.ops, offset, len, wide);
        expect([va, ha, a.calls]).toEqual([vb, wide.hi, b.calls]);
        qemuWrite(a.ops, offset, len, 0x89abcdef, 0x01234567);
        qemuWrite(b.ops, offset, len, 0x89abcdef, 0x01234567);
        expect(a.calls).toEqual(b.calls);
      }
    }
  });
});
