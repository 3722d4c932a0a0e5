import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { VpeTable } from "../v4/vpe.js";
import { GicrVlpiFrame } from "../v4/gicr-vlpi-frame.js";
import { Its, type ItsState } from "./its.js";
import { itsCommand as cmd, writeItsCommand } from "./its-command-encoding.js";
import * as C from "./its-constants.js";
import { CMDQ_BASE, ItsHarness, ittOf } from "./its-test-kit.js";
import type { ItsProfileName } from "./its-profiles.js";

const PROFILES: ItsProfileName[] = ["linux-kvm", "qemu"];

interface Mapping {
  dev: number;
  ev: number;
  intid: number;
  icid: number;
}

const mappingsArb = fc
  .uniqueArray(fc.record({ dev: fc.integer({ min: 0, max: 3 }), ev: fc.integer({ min: 0, max: 15 }) }), {
    minLength: 1,
    maxLength: 24,
    selector: (m) => m.dev * 16 + m.ev,
  })
  .chain((keys) =>
    fc.tuple(
      fc.constant(keys),
      fc.array(fc.integer({ min: 0, max: 3 }), { minLength: keys.length, maxLength: keys.length }),
      fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 4, maxLength: 4 }),
    ),
  )
  .map(([keys, icids, rdOfIcid]) => ({
    maps: keys.map((k, i): Mapping => ({ dev: k.dev, ev: k.ev, intid: 8192 + k.dev * 16 + k.ev, icid: icids[i]! })),
    rdOfIcid,
  }));

const opArb = fc.oneof(
  fc.record({ kind: fc.constant("msi" as const), dev: fc.integer({ min: 0, max: 4 }), ev: fc.integer({ min: 0, max: 17 }) }),
  fc.record({ kind: fc.constant("ack" as const), dev: fc.integer({ min: 0, max: 3 }), ev: fc.integer({ min: 0, max: 15 }) }),
);

describe.each(PROFILES)("ITS properties under %s", (profile) => {
  it("every MSI for a mapped event becomes pending exactly once until acknowledged", () => {
    fc.assert(
      fc.property(mappingsArb, fc.array(opArb, { maxLength: 80 }), ({ maps, rdOfIcid }, ops) => {
        const h = new ItsHarness({ profile });
        h.submit(...[0, 1, 2, 3].map((d) => cmd.mapd(d, ittOf(d), 3)), ...rdOfIcid.map((rd, icid) => cmd.mapc(icid, rd)));
        h.submit(...maps.map((m) => cmd.mapti(m.dev, m.ev, m.intid, m.icid)));
        expect(h.its.commandErrors).toBe(0);
        const byKey = new Map(maps.map((m) => [m.dev * 16 + m.ev, m]));
        const expected = new Set<string>();
        let becamePending = 0;
        for (const op of ops) {
          const m = op.ev < 16 ? byKey.get(op.dev * 16 + op.ev) : undefined;
          if (op.kind === "msi") {
            h.msi(op.dev, op.ev);
            if (m === undefined) continue;
            const key = `${rdOfIcid[m.icid]!}:${m.intid}`;
            if (!expected.has(key)) becamePending++;
            expected.add(key);
          } else if (m !== undefined) {
            // Acknowledge at the redistributor (what ICC_IAR1 does to an LPI).
            h.target.clearLpiPending(rdOfIcid[m.icid]!, m.intid);
            expected.delete(`${rdOfIcid[m.icid]!}:${m.intid}`);
          }
        }
        expect(h.target.pendingList()).toEqual([...expected].sort());
        expect(h.target.becamePending).toBe(becamePending);
      }),
      { numRuns: 60 },
    );
  });

  it("random register and command traffic never throws", () => {
    const interesting = [0, 4, 8, 0xc, 0x18, 0x80, 0x84, 0x88, 0x8c, 0x90, 0x100, 0x104, 0x108, 0x110, 0x138, 0xffe8, 0x10040];
    const access = fc.record({
      write: fc.boolean(),
      offset: fc.oneof(fc.constantFrom(...interesting), fc.integer({ min: 0, max: 0x1ffff })),
      size: fc.constantFrom(1 as const, 2 as const, 4 as const, 8 as const),
      value: fc.integer({ min: 0, max: 0xffff_ffff }),
      hi: fc.integer({ min: 0, max: 0xffff_ffff }),
    });
    const command = fc.tuple(
      fc.constantFrom(0x01, 0x03, 0x04, 0x05, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0f, 0x21, 0x22, 0x25, 0x29, 0x2a, 0x2b, 0x2d, 0x77),
      fc.array(fc.oneof(fc.integer({ min: 0, max: 0xffff_ffff }), fc.integer({ min: 0, max: 70000 })), { minLength: 7, maxLength: 7 }),
    );
    const step = fc.oneof(access.map((a) => ({ kind: "mmio" as const, ...a })), command.map(([n, rest]) => ({ kind: "cmd" as const, words: [n, ...rest] })));
    fc.assert(
      fc.property(fc.constantFrom(true, false), fc.array(step, { maxLength: 40 }), (virtual, steps) => {
        const vpes = virtual ? new VpeTable() : undefined;
        const h = new ItsHarness({ profile, lpiIdBits: 16, ...(vpes ? { vpes } : {}) });
        const frame = vpes ? new GicrVlpiFrame({ vpes, rd: 1 }) : undefined;
        const wide = { hi: 0 };
        for (const s of steps) {
          if (s.kind === "mmio") {
            if (s.write) h.its.write(s.offset, s.size, s.value, s.hi);
            else h.its.read(s.offset, s.size, wide);
            frame?.write(s.offset & 0x78, s.size, s.value, s.hi);
          } else {
            const off = h.its.read(C.GITS_CWRITER, 4, wide);
            writeItsCommand(h.memory, CMDQ_BASE + (off % 0x10000), s.words);
            h.its.write(C.GITS_CWRITER, 4, (off + 32) % h.its.queue.size, 0);
          }
          frame?.highestPendingVlpi();
        }
        expect(h.its.queue.creadr).toBeLessThan(0x100000);
      }),
      { numRuns: 60 },
    );
  });
});

describe("ITS snapshots", () => {
  it.each(PROFILES)("a restored %s ITS translates every event as the original does", (profile) => {
    const commandArb = fc.oneof(
      fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 5 })).map(([d, s]) => cmd.mapd(d, ittOf(d), s)),
      fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 4 }), fc.boolean()).map(([c, rd, v]) => cmd.mapc(c, rd, v)),
      fc
        .tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 15 }), fc.integer({ min: 8192, max: 8300 }), fc.integer({ min: 0, max: 3 }))
        .map(([d, e, i, c]) => cmd.mapti(d, e, i, c)),
      fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 15 })).map(([d, e]) => cmd.discard(d, e)),
      fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 15 }), fc.integer({ min: 0, max: 3 })).map(([d, e, c]) => cmd.movi(d, e, c)),
    );
    fc.assert(
      fc.property(fc.array(commandArb, { maxLength: 30 }), (cmds) => {
        const h = new ItsHarness({ profile });
        if (cmds.length > 0) h.submit(...cmds);
        const state = JSON.parse(JSON.stringify(h.its.state())) as ItsState;
        const copy = Its.fromState(state, { profile, target: h.target, memory: h.memory, lpiIdBits: 17 });
        for (let d = 0; d < 4; d++) {
          for (let e = 0; e < 16; e++) {
            h.target.clearAll();
            const a = h.its.translate(d, e);
            const before = h.target.pendingList();
            h.target.clearAll();
            expect(copy.translate(d, e)).toBe(a);
            expect(h.target.pendingList()).toEqual(before);
            h.target.clearAll();
          }
        }
      }),
      { numRuns: 40 },
    );
  });

  it.each(PROFILES)("round-trip through JSON under %s", (profile) => {
    const h = new ItsHarness({ profile });
    h.submit(cmd.mapd(1, ittOf(1), 3), cmd.mapc(0, 2), cmd.mapc(1, 3), cmd.mapti(1, 2, 8300, 0), cmd.mapti(1, 3, 8301, 1));
    const state = JSON.parse(JSON.stringify(h.its.state())) as ItsState;
    const its2 = Its.fromState(state, { profile, target: h.target, memory: h.memory, lpiIdBits: 17 });
    expect(its2.state()).toEqual(h.its.state());
    for (const off of [C.GITS_CTLR, C.GITS_TYPER, C.GITS_CBASER, C.GITS_CWRITER, C.GITS_CREADR, C.GITS_BASER, C.GITS_BASER + 8]) {
      expect(its2.read(off, 4, { hi: 0 })).toBe(h.its.read(off, 4, { hi: 0 }));
    }
    its2.translate(1, 2);
    its2.translate(1, 3);
    expect(h.target.pendingList()).toEqual(["2:8300", "3:8301"]);
    expect(() => its2.loadState({ ...state, version: 2 as 1 })).toThrow(/version 2/);
    const other: ItsProfileName = profile === "qemu" ? "linux-kvm" : "qemu";
    expect(() => Its.fromState(state, { profile: other, target: h.target, memory: h.memory })).toThrow(/profile/);
  });
});
