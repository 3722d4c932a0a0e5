import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { ConfigError, GuestMemoryFault, RegionOverlapError } from "./errors.js";
import { GuestMemory, PAGE_SIZE } from "./guest-memory.js";

const RAM = 0x4000_0000;

function mem(): GuestMemory {
  const m = new GuestMemory();
  m.addRam(RAM, 16 * PAGE_SIZE);
  return m;
}

describe("GuestMemory", () => {
  test("is little-endian at every width", () => {
    const m = mem();
    m.writeU32(RAM, 0x11223344);
    expect(m.readU8(RAM)).toBe(0x44);
    expect(m.readU8(RAM + 3)).toBe(0x11);
    expect(m.readU16(RAM + 1)).toBe(0x2233);
    m.writeU64(RAM + 8, 0x0102030405060708n);
    expect(m.readU32(RAM + 8)).toBe(0x05060708);
    expect(m.readU32(RAM + 12)).toBe(0x01020304);
    expect(m.readU64(RAM + 8)).toBe(0x0102030405060708n);
    m.writeU64(RAM + 16, -1n); // taken modulo 2^64
    expect(m.readU64(RAM + 16)).toBe(0xffff_ffff_ffff_ffffn);
  });

  test("reads zero from untouched pages without allocating them", () => {
    const m = mem();
    expect(m.readU32(RAM + 5 * PAGE_SIZE)).toBe(0);
    m.fill(RAM, PAGE_SIZE * 2, 0);
    expect(m.regions()[0]!.residentPages).toBe(0);
    m.writeU8(RAM + 5 * PAGE_SIZE, 1);
    expect(m.regions()[0]!.residentPages).toBe(1);
  });

  test("readInto tells how many bytes came from written pages: 0 when every byte is an untouched page's 0", () => {
    const m = mem();
    const dst = new Uint8Array(3 * PAGE_SIZE).fill(0xee);
    expect(m.readInto(RAM + PAGE_SIZE / 2, dst)).toBe(0);
    expect(dst.every((b) => b === 0)).toBe(true);
    // Page 2 written (with a zero, which still makes it a written page): its part of the range counts.
    m.writeU8(RAM + 2 * PAGE_SIZE + 7, 0);
    expect(m.readInto(RAM + PAGE_SIZE / 2, dst)).toBe(PAGE_SIZE);
    m.writeU8(RAM + 3 * PAGE_SIZE, 9);
    expect(m.readInto(RAM + PAGE_SIZE / 2, dst)).toBe(PAGE_SIZE + PAGE_SIZE / 2);
    expect(dst[dst.length - PAGE_SIZE / 2]).toBe(9);
  });

  test("accesses straddling a page boundary", () => {
    const m = mem();
    const a = RAM + PAGE_SIZE - 2;
    m.writeU32(a, 0xaabbccdd);
    expect(m.readU32(a)).toBe(0xaabbccdd);
    expect(m.readU16(RAM + PAGE_SIZE)).toBe(0xaabb);
  });

  test("an access outside RAM is a typed fault naming address, size and direction", () => {
    const m = mem();
    expect(() => m.readU32(0)).toThrow(GuestMemoryFault);
    try {
      m.writeU32(RAM + 16 * PAGE_SIZE - 2, 1); // last 2 bytes inside, 2 outside
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(GuestMemoryFault);
      const f = e as GuestMemoryFault;
      expect([f.address, f.size, f.access]).toEqual([RAM + 16 * PAGE_SIZE - 2, 4, "write"]);
      expect(f.message).toMatch(/0x4000fffe/);
    }
    expect(() => m.read(RAM + 15 * PAGE_SIZE, PAGE_SIZE + 1)).toThrow(GuestMemoryFault);
    // Eight words whose last six lie beyond RAM: the fault names the first of them, as readU32 at each would.
    m.writeU32(RAM + 16 * PAGE_SIZE - 8, 7); // that page, the one looked up last
    try {
      m.readU32s(RAM + 16 * PAGE_SIZE - 8, new Uint32Array(8));
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(GuestMemoryFault);
      const f = e as GuestMemoryFault;
      expect([f.address, f.size, f.access]).toEqual([RAM + 16 * PAGE_SIZE, 4, "read"]);
    }
    expect(m.isRam(RAM, 16 * PAGE_SIZE)).toBe(true);
    expect(m.isRam(RAM, 16 * PAGE_SIZE + 1)).toBe(false);
  });

  test("region validation", () => {
    const m = mem();
    expect(() => m.addRam(RAM + PAGE_SIZE, PAGE_SIZE, "overlap")).toThrow(RegionOverlapError);
    expect(() => m.addRam(RAM + PAGE_SIZE, PAGE_SIZE, "overlap")).toThrow(/'overlap'.*overlaps 'ram'/);
    expect(() => m.addRam(123, PAGE_SIZE)).toThrow(ConfigError);
    expect(() => m.addRam(0, 100)).toThrow(/multiple of 4096/);
    m.addRam(0, PAGE_SIZE, "low");
    expect(m.regions().map((r) => r.name)).toEqual(["ram", "low"]);
  });

  test("a 256 GiB region costs only what is written: pages across the 2 MiB blocks of its index, at its far end, counted", () => {
    const m = new GuestMemory();
    const base = 0x40_0000_0000; // 256 GiB at 256 GiB
    const size = 256 * 2 ** 30;
    m.addRam(base, size, "big");
    const block = 512 * PAGE_SIZE; // one block of the page index
    // A fill and a copy across a block boundary, a straddling word, the last word of the region.
    m.fill(base + block - PAGE_SIZE, 2 * PAGE_SIZE, 0x5a);
    m.writeU32(base + 3 * block - 2, 0x1122_3344);
    m.writeU32(base + size - 4, 0xcafe_f00d);
    expect(m.readU32(base + block - 4)).toBe(0x5a5a_5a5a);
    expect(m.readU32(base + block)).toBe(0x5a5a_5a5a);
    expect(m.readU32(base + block + PAGE_SIZE)).toBe(0);
    expect(m.readU16(base + 3 * block)).toBe(0x1122);
    expect(m.readU32(base + size - 4)).toBe(0xcafe_f00d);
    expect([...m.read(base + block - 2, 4)]).toEqual([0x5a, 0x5a, 0x5a, 0x5a]);
    expect(m.regions()[0]!.residentPages).toBe(5);
    expect(() => m.readU32(base + size - 2)).toThrow(GuestMemoryFault);
  });

  test("pages first written out of address order, by each kind of store: every bulk copy, fill and access lands in its own page", () => {
    const m = new GuestMemory();
    m.addRam(RAM, 64 * PAGE_SIZE);
    // 40 pages, each first written by one kind of store, from the top of the range down.
    for (let p = 39; p >= 0; p--) {
      const at = RAM + p * PAGE_SIZE;
      if (p % 3 === 0) m.write(at + 8, Uint8Array.of(p, p + 1, p + 2));
      else if (p % 3 === 1) m.fill(at + 8, 3, p);
      else m.writeU8(at + 8, p);
    }
    for (let p = 0; p < 40; p++) {
      const want = p % 3 === 0 ? [p, p + 1, p + 2] : p % 3 === 1 ? [p, p, p] : [p, 0, 0];
      expect(Array.from(m.read(RAM + p * PAGE_SIZE + 8, 3)), `page ${p}`).toEqual(want);
      expect(m.readU32(RAM + p * PAGE_SIZE + 4), `page ${p}`).toBe(0);
    }
    expect(m.regions()[0]!.residentPages).toBe(40);
  });

  test("addresses above 4 GiB", () => {
    const m = new GuestMemory();
    const hi = 0x1_0000_0000 * 0x80; // 512 GiB
    m.addRam(hi, PAGE_SIZE * 2, "high");
    m.writeU32(hi + 4, 0xdeadbeef);
    expect(m.readU32(hi + 4)).toBe(0xdeadbeef);
    expect(() => m.readU32(hi - 4)).toThrow(GuestMemoryFault);
  });
});

describe("GuestMemory.watchWrites", () => {
  test("every kind of write that touches the watched range is reported as it is made; writes beside it are not", () => {
    const m = mem();
    const w = RAM + 0x100;
    let told = 0;
    m.watchWrites(
      {
        written: () => {
          told++;
        },
      },
      w,
      4,
    );
    const writes: [string, () => void, boolean][] = [
      ["writeU32 on it", () => m.writeU32(w, 1), true],
      ["writeU8 on its last byte", () => m.writeU8(w + 3, 1), true],
      ["writeU16 across its start", () => m.writeU16(w - 1, 1), true],
      ["writeU64 over it", () => m.writeU64(w - 4, 1n), true],
      ["write of bytes over it", () => m.write(w + 2, new Uint8Array(8)), true],
      ["fill across it", () => m.fill(w - 16, 17), true],
      ["writeU32 just before", () => m.writeU32(w - 4, 1), false],
      ["writeU32 just after", () => m.writeU32(w + 4, 1), false],
      ["fill up to it", () => m.fill(w - 16, 16), false],
    ];
    for (const [what, write, reported] of writes) {
      const before = told;
      write();
      expect(told - before, what).toBe(reported ? 1 : 0);
    }
    expect(m.watched(w + 3, 1)).toBe(true);
    expect(m.watched(w + 4, 4)).toBe(false);
    m.watchWrites(undefined);
    m.writeU32(w, 2);
    expect(told).toBe(6);
    expect(m.watched(w, 4)).toBe(false);
  });
});

describe("GuestMemory properties", () => {
  const addr = fc.integer({ min: 0, max: 16 * PAGE_SIZE - 8 }).map((o) => RAM + o);

  test("a write then a read of the same width returns the value", () => {
    fc.assert(
      fc.property(addr, fc.constantFrom(1, 2, 4), fc.integer({ min: 0, max: 0xffffffff }), (a, size, v) => {
        const m = mem();
        const masked = size === 4 ? v : v % 2 ** (8 * size);
        if (size === 1) m.writeU8(a, v);
        else if (size === 2) m.writeU16(a, v);
        else m.writeU32(a, v);
        const got = size === 1 ? m.readU8(a) : size === 2 ? m.readU16(a) : m.readU32(a);
        expect(got).toBe(masked);
      }),
    );
  });

  test("bulk write/read round-trips and agrees with byte reads", () => {
    fc.assert(
      fc.property(addr, fc.uint8Array({ maxLength: 3 * PAGE_SIZE }), (a, bytes) => {
        const m = mem();
        const len = Math.min(bytes.length, RAM + 16 * PAGE_SIZE - a);
        const src = bytes.subarray(0, len);
        m.write(a, src);
        expect(m.read(a, len)).toEqual(src);
        if (len > 0) expect(m.readU8(a + len - 1)).toBe(src[len - 1]);
      }),
    );
  });

  test("64-bit values round-trip", () => {
    fc.assert(
      fc.property(addr, fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), (a, v) => {
        const m = mem();
        m.writeU64(a, v);
        expect(m.readU64(a)).toBe(v);
      }),
    );
  });

  test("agrees with a byte array over accesses that move among several pages, the page cache's every hit and miss", () => {
    // Three pages and their edges: runs on one page, alternation between two (both cache entries), a third page
    // (a miss that evicts), writes through either entry read back through the other, accesses straddling pages.
    // Size 32 is a read of eight words at once (readU32s), as an ITS reads a command.
    const pages = [0, 1, 5];
    const offset = fc.oneof(fc.integer({ min: 0, max: 15 }), fc.integer({ min: PAGE_SIZE - 40, max: PAGE_SIZE - 1 }));
    const access = fc.record({
      page: fc.constantFrom(...pages),
      offset,
      size: fc.constantFrom(1, 2, 4, 32),
      write: fc.boolean(),
      value: fc.integer({ min: 0, max: 0xffffffff }),
    });
    const words = new Uint32Array(8);
    fc.assert(
      fc.property(fc.array(access, { minLength: 1, maxLength: 60 }), (accesses) => {
        const m = mem();
        const bytes = new Uint8Array(16 * PAGE_SIZE);
        for (const x of accesses) {
          const rel = x.page * PAGE_SIZE + x.offset;
          if (x.size === 32) {
            if (x.write) continue;
            m.readU32s(RAM + rel, words);
            for (let w = 0; w < 8; w++) {
              let want = 0;
              for (let i = 3; i >= 0; i--) want = want * 256 + bytes[rel + 4 * w + i]!;
              expect(words[w]).toBe(want);
            }
          } else if (x.write) {
            if (x.size === 1) m.writeU8(RAM + rel, x.value);
            else if (x.size === 2) m.writeU16(RAM + rel, x.value);
            else m.writeU32(RAM + rel, x.value);
            for (let i = 0; i < x.size; i++) bytes[rel + i] = (x.value >>> (8 * i)) & 0xff;
          } else {
            let want = 0;
            for (let i = x.size - 1; i >= 0; i--) want = want * 256 + bytes[rel + i]!;
            const got = x.size === 1 ? m.readU8(RAM + rel) : x.size === 2 ? m.readU16(RAM + rel) : m.readU32(RAM + rel);
            expect(got).toBe(want);
          }
        }
        expect(Buffer.from(m.read(RAM, 16 * PAGE_SIZE)).equals(bytes)).toBe(true);
      }),
    );
  });
});
