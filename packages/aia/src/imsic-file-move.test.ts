/**
 * ImsicFile.moveInto and the word-wise reset: the allocation-free form of
 * KVM's guest-file move (Linux arch/riscv/kvm/aia_imsic.c: imsic_vsfile_read
 * with clear, then imsic_vsfile_local_update ORs eip/eie into the new file and
 * writes eithreshold, then eidelivery). Checked against the snapshot form
 * `b.mergeFrom(a.readAndClear())` and against `restore` of a zero snapshot,
 * including the order of the delivery-line callbacks.
 */
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { EIDELIVERY_APLIC } from "./imsic-constants.js";
import { ImsicFile, type ImsicFileState } from "./imsic-file.js";

/** One file's construction and starting state. */
interface FileSpec {
  readonly nrIds: number;
  readonly aplic: boolean;
  readonly eip: number[];
  readonly eie: number[];
  readonly eithreshold: number;
  readonly eidelivery: number;
}

const u32 = fc.oneof(fc.constant(0), fc.constant(0xffffffff), fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 31 }).map((b) => 2 ** b));

function fileSpecArb(nrIds: fc.Arbitrary<number>): fc.Arbitrary<FileSpec> {
  return nrIds.chain((n) =>
    fc.record({
      nrIds: fc.constant(n),
      aplic: fc.boolean(),
      eip: fc.array(u32, { minLength: (n + 1) / 32, maxLength: (n + 1) / 32 }),
      eie: fc.array(u32, { minLength: (n + 1) / 32, maxLength: (n + 1) / 32 }),
      eithreshold: fc.integer({ min: 0, max: n + 8 }),
      eidelivery: fc.constantFrom(0, 1, EIDELIVERY_APLIC),
    }),
  );
}

/** Host-side operations that change words one at a time (each marks or clears words differently). */
type Op = readonly [kind: number, id: number, value: number];
const opArb: fc.Arbitrary<Op> = fc.tuple(fc.integer({ min: 0, max: 7 }), fc.integer({ min: 0, max: 2100 }), u32);

function applyOp(f: ImsicFile, [kind, id, value]: Op): void {
  switch (kind) {
    case 0:
      f.setPending(id);
      break;
    case 1:
      f.clearPending(id);
      break;
    case 2:
      f.setEnabled(id, (value & 1) === 1);
      break;
    case 3:
      f.writeEix((value & 1) === 1, id >>> 5, value);
      break;
    case 4:
      f.writeTopei();
      break;
    case 5:
      f.writeEithreshold(id);
      break;
    case 6:
      f.writeEidelivery(value & 1 ? 1 : 0);
      break;
    default:
      f.writeEidelivery(EIDELIVERY_APLIC);
  }
}

/** A file built from `spec` whose line callbacks append `name:level` to `log`. */
function build(spec: FileSpec, name: string, log: string[]): ImsicFile {
  const f = new ImsicFile({ nrIds: spec.nrIds, eideliveryAplic: spec.aplic, name });
  f.restore({ version: 1, nrIds: spec.nrIds, eip: spec.eip, eie: spec.eie, eithreshold: spec.eithreshold, eidelivery: spec.eidelivery });
  f.connect((on) => log.push(`${name}:${String(on)}`));
  return f;
}

function zero(f: ImsicFile, eidelivery = 0): ImsicFileState {
  const words = (f.nrIds + 1) / 32;
  return { version: 1, nrIds: f.nrIds, eidelivery, eithreshold: 0, eip: new Array<number>(words).fill(0), eie: new Array<number>(words).fill(0) };
}

/** Everything observable of a file from the host side. */
function observe(f: ImsicFile): unknown {
  return { state: f.state(), topei: f.readTopei(), line: f.deliveryAsserted };
}

const sameN = fc.constantFrom(63, 255, 2047).chain((n) => fc.tuple(fileSpecArb(fc.constant(n)), fileSpecArb(fc.constant(n))));

describe("moveInto equals readAndClear + mergeFrom (aia_imsic.c VS-file move)", () => {
  test("for random file states: same states and the same line callbacks in the same order", () => {
    fc.assert(
      fc.property(sameN, fc.array(opArb, { maxLength: 12 }), fc.array(opArb, { maxLength: 12 }), ([sa, sb], opsA, opsB) => {
        const logI: string[] = [];
        const logR: string[] = [];
        const a = build(sa, "a", logI);
        const b = build(sb, "b", logI);
        const ra = build(sa, "a", logR);
        const rb = build(sb, "b", logR);
        for (const op of opsA) {
          applyOp(a, op);
          applyOp(ra, op);
        }
        for (const op of opsB) {
          applyOp(b, op);
          applyOp(rb, op);
        }
        logI.length = 0;
        logR.length = 0;
        a.moveInto(b);
        const s = ra.readAndClear();
        rb.mergeFrom(s);
        expect(logI).toEqual(logR);
        expect(observe(a)).toEqual(observe(ra));
        expect(observe(b)).toEqual(observe(rb));
      }),
    );
  });

  test("over sequences of operations, resets and moves both ways (clear bookkeeping stays exact)", () => {
    // 8 = reset(v & 1), 9 = move a→b, 10 = move b→a, 11 = move a into itself.
    const stepArb = fc.tuple(fc.boolean(), fc.oneof(opArb, fc.tuple(fc.integer({ min: 8, max: 11 }), fc.nat(), u32)));
    fc.assert(
      fc.property(sameN, fc.array(stepArb, { maxLength: 40 }), ([sa, sb], steps) => {
        const logI: string[] = [];
        const logR: string[] = [];
        const impl = [build(sa, "a", logI), build(sb, "b", logI)] as const;
        const ref = [build(sa, "a", logR), build(sb, "b", logR)] as const;
        for (const [onB, op] of steps) {
          const [kind, , value] = op;
          const x: 0 | 1 = onB ? 1 : 0;
          if (kind === 8) {
            impl[x].reset(value & 1);
            ref[x].restore(zero(ref[x], value & 1));
          } else if (kind >= 9) {
            const [from, to]: [0 | 1, 0 | 1] = kind === 9 ? [0, 1] : kind === 10 ? [1, 0] : [x, x];
            impl[from].moveInto(impl[to]);
            // Reference without reset(): a snapshot, a restore of zeros, a merge.
            const s = ref[from].state();
            ref[from].restore(zero(ref[from]));
            ref[to].mergeFrom(s);
          } else {
            applyOp(impl[x], op);
            applyOp(ref[x], op);
          }
          expect(logI).toEqual(logR);
          expect(observe(impl[0])).toEqual(observe(ref[0]));
          expect(observe(impl[1])).toEqual(observe(ref[1]));
        }
      }),
    );
  });

  test("a move into the file itself keeps its state and drops then re-evaluates its line", () => {
    fc.assert(
      fc.property(fileSpecArb(fc.constantFrom(63, 2047)), (spec) => {
        const logI: string[] = [];
        const logR: string[] = [];
        const a = build(spec, "a", logI);
        const ra = build(spec, "a", logR);
        a.moveInto(a);
        ra.mergeFrom(ra.readAndClear());
        expect(logI).toEqual(logR);
        expect(observe(a)).toEqual(observe(ra));
      }),
    );
  });

  test("files of different N: words beyond the target's identities are dropped, missing ones are zero", () => {
    const pair = fc.tuple(fileSpecArb(fc.constantFrom(63, 255, 2047)), fileSpecArb(fc.constantFrom(63, 255, 2047)));
    fc.assert(
      fc.property(pair, ([sa, sb]) => {
        const logI: string[] = [];
        const logR: string[] = [];
        const a = build(sa, "a", logI);
        const b = build(sb, "b", logI);
        const ra = build(sa, "a", logR);
        const rb = build(sb, "b", logR);
        a.moveInto(b);
        const s = ra.readAndClear();
        const words = (rb.nrIds + 1) / 32;
        const fit = (w: readonly number[]): number[] => Array.from({ length: words }, (_, k) => w[k] ?? 0);
        rb.mergeFrom({ ...s, nrIds: rb.nrIds, eip: fit(s.eip), eie: fit(s.eie) });
        expect(logI).toEqual(logR);
        expect(observe(a)).toEqual(observe(ra));
        expect(observe(b)).toEqual(observe(rb));
      }),
    );
  });

  test("a larger file into a smaller one: identity 64, just beyond N = 63, is dropped, not reported", () => {
    const big = new ImsicFile({ nrIds: 255 });
    const small = new ImsicFile({ nrIds: 63 });
    big.setEnabled(64, true);
    big.setPending(64);
    big.writeEidelivery(1);
    expect(big.deliveryAsserted).toBe(true);
    big.moveInto(small);
    expect([small.topId(), small.deliveryAsserted, small.eidelivery]).toEqual([0, false, 1]);
    expect(small.state().eip.concat(small.state().eie).every((w) => w === 0)).toBe(true);
    small.setEnabled(63, true);
    small.setPending(63);
    expect(small.topId()).toBe(63);
    small.clearPending(63); // a refresh of the summary afterwards finds nothing beyond N either
    expect(small.topId()).toBe(0);
  });

  test("an asserted file moved onto a fresh one: the old line drops before the new one rises", () => {
    const log: string[] = [];
    const old = new ImsicFile({ nrIds: 255, onDelivery: (on) => log.push(`old:${String(on)}`) });
    const fresh = new ImsicFile({ nrIds: 255, onDelivery: (on) => log.push(`new:${String(on)}`) });
    old.setEnabled(200, true);
    old.setPending(200);
    old.writeEidelivery(1);
    old.writeEithreshold(250);
    fresh.setEnabled(7, true); // an MSI that reached the new file after the remap survives the merge
    fresh.setPending(7);
    log.length = 0;
    old.moveInto(fresh);
    expect(log).toEqual(["old:false", "new:true"]);
    expect([old.eidelivery, old.eithreshold, old.topId(), old.isEnabled(200), old.isPending(200)]).toEqual([0, 0, 0, false, false]);
    expect([fresh.eidelivery, fresh.eithreshold, fresh.topId(), fresh.isPending(200), fresh.isEnabled(200)]).toEqual([1, 250, 7, true, true]);
  });
});

describe("reset is the restore of a zero snapshot", () => {
  test("for random states and operations, including eidelivery 0x40000000 where supported", () => {
    fc.assert(
      fc.property(fileSpecArb(fc.constantFrom(63, 255, 2047)), fc.array(opArb, { maxLength: 12 }), fc.constantFrom(0, 1, EIDELIVERY_APLIC), (spec, ops, d) => {
        const logI: string[] = [];
        const logR: string[] = [];
        const f = build(spec, "f", logI);
        const r = build(spec, "f", logR);
        for (const op of ops) {
          applyOp(f, op);
          applyOp(r, op);
        }
        f.reset(d);
        r.restore(zero(r, d));
        expect(logI).toEqual(logR);
        expect(observe(f)).toEqual(observe(r));
        // A second round after the reset: no stale word survives.
        for (const op of ops) {
          applyOp(f, op);
          applyOp(r, op);
        }
        f.reset();
        r.restore(zero(r));
        expect(observe(f)).toEqual(observe(r));
      }),
    );
  });
});
