/**
 * The linux-kvm translation cache never outlives the translation it holds:
 * for every command or register write that changes where (DeviceID, EventID)
 * goes, the MSI right after it — which would hit a stale entry if the cache
 * were not invalidated — lands where the new tables say. Each test first
 * warms the cache and checks that the second MSI was a hit, so that the MSI
 * after the change really has a cached entry to get wrong.
 * Invalidation points: Linux arch/arm64/kvm/vgic/vgic-its.c callers of
 * vgic_its_invalidate_cache() (handle_discard, handle_movi, handle_mapc,
 * vgic_its_free_device on MAPD, vgic_mmio_write_its_ctlr,
 * vgic_mmio_write_its_baser through the freed device list, vgic_its_reset).
 */
import { describe, expect, it } from "vitest";
import { itsCommand as cmd } from "./its-command-encoding.js";
import { ITS_MSI_DELIVERED, ITS_MSI_UNMAPPED } from "./its-commands.js";
import * as C from "./its-constants.js";
import { ItsHarness, ittOf } from "./its-test-kit.js";

const DEV = 1;
const EV = 5;

/** DeviceID 1 (16 events), collection 0 → RD 1, collection 1 → RD 3, event 5 → LPI 8197 in collection 0; cache warm. */
function warm(): ItsHarness {
  const h = new ItsHarness({ profile: "linux-kvm" });
  h.submit(cmd.mapd(DEV, ittOf(DEV), 3), cmd.mapc(0, 1), cmd.mapc(1, 3), cmd.mapti(DEV, EV, 8197, 0));
  expect(h.its.commandErrors).toBe(0);
  h.msi(DEV, EV);
  const hits = h.its.cache!.hits;
  h.msi(DEV, EV);
  expect(h.its.cache!.hits).toBe(hits + 1);
  expect(h.target.pendingList()).toEqual(["1:8197"]);
  h.target.clearAll();
  return h;
}

describe("translation cache invalidation (linux-kvm)", () => {
  it("MAPD V=0: the next MSI is dropped", () => {
    const h = warm();
    h.submit(cmd.mapd(DEV, ittOf(DEV), 3, false));
    expect(h.its.translate(DEV, EV)).toBe(ITS_MSI_UNMAPPED);
    expect(h.target.pendingList()).toEqual([]);
  });

  it("MAPD of a mapped device (a new ITT): its old events are gone", () => {
    const h = warm();
    h.submit(cmd.mapd(DEV, ittOf(DEV + 1), 3));
    expect(h.its.translate(DEV, EV)).toBe(ITS_MSI_UNMAPPED);
    h.submit(cmd.mapti(DEV, EV, 8300, 1));
    expect(h.its.translate(DEV, EV)).toBe(ITS_MSI_DELIVERED);
    expect(h.target.pendingList()).toEqual(["3:8300"]);
  });

  it("MAPC V=0: the collection's events are dropped", () => {
    const h = warm();
    h.submit(cmd.mapc(0, 1, false));
    expect(h.its.translate(DEV, EV)).toBe(ITS_MSI_UNMAPPED);
    expect(h.target.pendingList()).toEqual([]);
  });

  it("MAPC retargeting a collection: the next MSI goes to the new redistributor", () => {
    const h = warm();
    h.submit(cmd.mapc(0, 2));
    h.msi(DEV, EV);
    expect(h.target.pendingList()).toEqual(["2:8197"]);
  });

  it("MOVI: the next MSI goes to the new collection's redistributor", () => {
    const h = warm();
    h.submit(cmd.movi(DEV, EV, 1));
    h.msi(DEV, EV);
    expect(h.target.pendingList()).toEqual(["3:8197"]);
  });

  it("DISCARD then MAPTI: the event raises the new LPI on the new collection", () => {
    const h = warm();
    h.submit(cmd.discard(DEV, EV));
    expect(h.its.translate(DEV, EV)).toBe(ITS_MSI_UNMAPPED);
    h.submit(cmd.mapti(DEV, EV, 8400, 1));
    h.msi(DEV, EV);
    expect(h.target.pendingList()).toEqual(["3:8400"]);
  });

  it("DISCARD then MAPI: the event raises LPI = EventID", () => {
    const h = new ItsHarness({ profile: "linux-kvm" });
    h.submit(cmd.mapd(DEV, ittOf(DEV), 15), cmd.mapc(0, 1), cmd.mapti(DEV, 8200, 8197, 0));
    h.msi(DEV, 8200);
    h.msi(DEV, 8200);
    expect(h.its.cache!.hits).toBe(1);
    h.target.clearAll();
    h.submit(cmd.discard(DEV, 8200), cmd.mapi(DEV, 8200, 0));
    h.msi(DEV, 8200);
    expect(h.target.pendingList()).toEqual(["1:8200"]);
  });

  it("GITS_BASER0 Valid = 0 frees the devices: after re-enabling, the event is unmapped", () => {
    const h = warm();
    h.its.write(C.GITS_CTLR, 4, 0, 0);
    const [lo, hi] = h.read64(C.GITS_BASER);
    h.write64(C.GITS_BASER, lo, hi & ~C.GITS_BASER_HI_VALID);
    h.write64(C.GITS_BASER, lo, hi);
    h.its.write(C.GITS_CTLR, 4, C.GITS_CTLR_ENABLE, 0);
    expect(h.its.enabled).toBe(true);
    expect(h.its.translate(DEV, EV)).toBe(ITS_MSI_UNMAPPED);
    expect(h.target.pendingList()).toEqual([]);
  });

  it("reset (ITS_CTRL_RESET): after re-enabling, the event is unmapped", () => {
    const h = warm();
    h.its.reset();
    h.setup();
    expect(h.its.translate(DEV, EV)).toBe(ITS_MSI_UNMAPPED);
    expect(h.target.pendingList()).toEqual([]);
  });

  it("loadState (table restore): the restored tables decide, not the cache", () => {
    const h = new ItsHarness({ profile: "linux-kvm" });
    h.submit(cmd.mapd(DEV, ittOf(DEV), 3), cmd.mapc(0, 1), cmd.mapc(1, 3), cmd.mapti(DEV, EV, 8197, 1));
    const before = h.its.state(); // event 5 → collection 1 → RD 3
    h.submit(cmd.movi(DEV, EV, 0));
    h.msi(DEV, EV);
    h.msi(DEV, EV);
    expect(h.target.pendingList()).toEqual(["1:8197"]);
    h.target.clearAll();
    h.its.loadState(before);
    h.msi(DEV, EV);
    expect(h.target.pendingList()).toEqual(["3:8197"]);
  });

  it("INV, INVALL, SYNC and CLEAR change no translation and keep the cache", () => {
    const h = warm();
    h.submit(cmd.inv(DEV, EV), cmd.invall(0), cmd.sync(1), cmd.clear(DEV, EV));
    const hits = h.its.cache!.hits;
    h.msi(DEV, EV);
    expect(h.its.cache!.hits).toBe(hits + 1);
    expect(h.target.pendingList()).toEqual(["1:8197"]);
  });

  it("a failed command leaves the cached translation valid", () => {
    const h = warm();
    h.submit(cmd.movi(DEV, EV, 7)); // collection 7 is unmapped: E_ITS_MOVI_UNMAPPED_COLLECTION
    expect(h.its.commandErrors).toBe(1);
    h.msi(DEV, EV);
    expect(h.target.pendingList()).toEqual(["1:8197"]);
  });
});

describe("the INT command fills the translation cache (linux-kvm)", () => {
  // vgic_its_cmd_handle_int → vgic_its_trigger_msi → vgic_its_resolve_lpi, which ends with
  // vgic_its_cache_translation(): after an INT, the first MSI of that event is already a hit.
  it("an MSI after INT of the same event hits the cache and raises the LPI", () => {
    const h = new ItsHarness({ profile: "linux-kvm" });
    h.submit(cmd.mapd(DEV, ittOf(DEV), 3), cmd.mapc(0, 1), cmd.mapti(DEV, EV, 8197, 0));
    const cache = h.its.cache!;
    expect([cache.hits, cache.misses]).toEqual([0, 0]);
    h.submit(cmd.int(DEV, EV));
    expect(h.target.pendingList()).toEqual(["1:8197"]);
    h.target.clearAll();
    h.msi(DEV, EV);
    expect([cache.hits, cache.misses]).toEqual([1, 0]);
    expect(h.target.pendingList()).toEqual(["1:8197"]);
  });

  it("an INT that fails (unmapped collection) caches nothing", () => {
    const h = new ItsHarness({ profile: "linux-kvm" });
    h.submit(cmd.mapd(DEV, ittOf(DEV), 3), cmd.mapti(DEV, EV, 8197, 0), cmd.int(DEV, EV));
    expect(h.its.commandErrors).toBe(1);
    h.submit(cmd.mapc(0, 1));
    h.msi(DEV, EV);
    expect([h.its.cache!.hits, h.its.cache!.misses]).toEqual([0, 1]);
  });
});
