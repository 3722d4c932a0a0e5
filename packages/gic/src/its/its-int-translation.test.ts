import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { itsCommand as cmd } from "./its-command-encoding.js";
import * as C from "./its-constants.js";
import { DT_BASE, ItsHarness, RAM_BASE, ittOf } from "./its-test-kit.js";
import type { ItsProfileName } from "./its-profiles.js";

const KVM_PROFILES: ItsProfileName[] = ["linux-kvm", "linux-kvm-6.6"];

// Few IDs, so that the traffic keeps meeting the same translations; EventIDs 8 and 9 lie outside a Size-2 ITT.
const dev = fc.integer({ min: 0, max: 1 });
const ev = fc.constantFrom(0, 1, 2, 9);
const rd = fc.integer({ min: 0, max: 2 });
const icid = fc.integer({ min: 0, max: 1 });

/** Commands that make, move, drop and use translations, MSIs and acknowledgements; mostly INTs and MSIs. */
const stepArb = fc.oneof(
  fc.record({ k: fc.constant("mapd" as const), dev, valid: fc.boolean(), size: fc.constantFrom(2, 3) }),
  fc.record({ k: fc.constant("mapc" as const), icid, rd, valid: fc.boolean() }),
  fc.record({ k: fc.constant("mapti" as const), dev, ev, icid }),
  fc.record({ k: fc.constant("movi" as const), dev, ev, icid }),
  fc.record({ k: fc.constant("movall" as const), rd1: rd, rd2: rd }),
  fc.record({ k: fc.constant("discard" as const), dev, ev }),
  fc.record({ k: fc.constant("clear" as const), dev, ev }),
  { arbitrary: fc.record({ k: fc.constant("int" as const), dev, ev }), weight: 8 },
  { arbitrary: fc.record({ k: fc.constant("msi" as const), dev, ev }), weight: 3 },
  { arbitrary: fc.record({ k: fc.constant("ack" as const), rd, dev, ev }), weight: 4 },
);
type Step = typeof stepArb extends fc.Arbitrary<infer T> ? T : never;

function words(s: Step): readonly number[] | undefined {
  switch (s.k) {
    case "mapd":
      return cmd.mapd(s.dev, ittOf(s.dev), s.size, s.valid);
    case "mapc":
      return cmd.mapc(s.icid, s.rd, s.valid);
    case "mapti":
      return cmd.mapti(s.dev, s.ev, 8192 + s.dev * 16 + s.ev, s.icid);
    case "movi":
      return cmd.movi(s.dev, s.ev, s.icid);
    case "movall":
      return cmd.movall(s.rd1, s.rd2);
    case "discard":
      return cmd.discard(s.dev, s.ev);
    case "clear":
      return cmd.clear(s.dev, s.ev);
    case "int":
      return cmd.int(s.dev, s.ev);
    case "msi":
    case "ack":
      return undefined;
  }
}

describe.each(KVM_PROFILES)("INT under %s", (profile) => {
  it("pends what walking the tables pends, whether or not its translation is cached", () => {
    // The same traffic on two ITSs; before each INT the second drops its translation cache, so its INT walks
    // the tables (vgic_its_resolve_lpi) where the first may answer from a cached translation.
    let cachedInts = 0;
    fc.assert(
      fc.property(fc.array(stepArb, { minLength: 1, maxLength: 70 }), (steps) => {
        const a = new ItsHarness({ profile });
        const b = new ItsHarness({ profile });
        // Start from every event of both devices mapped, through two collections on two redistributors.
        const start = [cmd.mapd(0, ittOf(0), 3), cmd.mapd(1, ittOf(1), 3), cmd.mapc(0, 0), cmd.mapc(1, 1)];
        for (const d of [0, 1]) for (const e of [0, 1, 2]) start.push(cmd.mapti(d, e, 8192 + d * 16 + e, (d + e) % 2));
        a.submit(...start);
        b.submit(...start);
        for (const s of steps) {
          for (const h of [a, b]) {
            const w = words(s);
            if (s.k === "int" && h === a && h.its.cache!.peek(s.dev, s.ev) >= 0) cachedInts++;
            if (s.k === "int" && h === b) h.its.cache!.invalidateAll();
            if (w !== undefined) h.submit(w);
            else if (s.k === "msi") h.msi(s.dev, s.ev);
            else if (s.k === "ack") h.target.clearLpiPending(s.rd, 8192 + s.dev * 16 + s.ev);
          }
          expect(a.target.pendingList()).toEqual(b.target.pendingList());
          expect(a.target.becamePending).toBe(b.target.becamePending);
          expect(a.its.commandErrors).toBe(b.its.commandErrors);
        }
      }),
      { numRuns: 150 },
    );
    // Some INTs of that traffic were answered from the cache: the comparison is not vacuous.
    expect(cachedInts).toBeGreaterThan(0);
  });

  it("answers a repeated INT from its cached translation without counting a lookup", () => {
    const h = new ItsHarness({ profile });
    h.submit(cmd.mapd(1, ittOf(1), 3), cmd.mapc(0, 2), cmd.mapti(1, 5, 8300, 0), cmd.int(1, 5));
    expect(h.target.pendingList()).toEqual(["2:8300"]);
    expect(h.its.cache!.peek(1, 5)).toBe(2 * 2 ** 24 + 8300);
    const { hits, misses } = h.its.cache!.stats();
    h.target.clearAll();
    h.submit(cmd.int(1, 5));
    expect(h.target.pendingList()).toEqual(["2:8300"]);
    // peek counts nothing: the statistics are those of MSI lookups only, as KVM's INT never looks.
    expect(h.its.cache!.stats()).toMatchObject({ hits, misses });
  });

  it("finds a device and its ITEs in KVM's own lists: a level-1 device table entry cleared after MAPD hides neither", () => {
    // Linux arch/arm64/kvm/vgic/vgic-its.c: only vgic_its_cmd_handle_mapd() checks a DeviceID with
    // vgic_its_check_id(); INT, CLEAR, INV, DISCARD and MOVI call find_ite(), MAPTI find_its_device(): walks of
    // the ITS's device list.
    const h = new ItsHarness({ profile, enable: false });
    h.setup();
    h.its.write(C.GITS_CTLR, 4, 0, 0);
    const l2 = RAM_BASE + 0x40_0000;
    const [lo, hi] = h.read64(C.GITS_BASER);
    h.write64(C.GITS_BASER, lo, hi | C.GITS_BASER_HI_INDIRECT);
    h.memory.writeU32(DT_BASE, l2);
    h.memory.writeU32(DT_BASE + 4, 0x8000_0000); // L1 entry 0: Valid, level-2 page at l2
    h.its.write(C.GITS_CTLR, 4, C.GITS_CTLR_ENABLE, 0);
    h.submit(cmd.mapd(3, ittOf(3), 3), cmd.mapc(0, 1), cmd.mapti(3, 2, 8200, 0));
    expect(h.its.commandErrors).toBe(0);
    h.memory.writeU32(DT_BASE + 4, 0); // the guest invalidates the L1 entry
    h.its.cache!.invalidateAll();
    h.submit(cmd.int(3, 2));
    expect(h.target.pendingList()).toEqual(["1:8200"]);
    h.submit(cmd.clear(3, 2));
    expect(h.target.pendingList()).toEqual([]);
    // vgic_its_cmd_handle_mapi() finds the device in the same list.
    h.submit(cmd.mapti(3, 4, 8204, 0), cmd.int(3, 4));
    expect(h.target.pendingList()).toEqual(["1:8204"]);
    expect(h.its.commandErrors).toBe(0);
    // MAPD does check the table: a new device behind the invalid entry is out of range.
    h.submit(cmd.mapd(4, ittOf(4), 3));
    expect(h.its.commandErrors).toBe(1);
  });
});
