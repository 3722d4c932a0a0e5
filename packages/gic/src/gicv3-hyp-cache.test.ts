// The cached state of the virtual interrupt path against from-scratch computations
// under random traffic:
// 1. the hypervisor interface's LR summary (ICH_MISR/EISR/ELRSR, the highest-priority
//    pending LR of hppvi(), the active LR found by an EOI) equals a direct reading of
//    the architectural registers (IHI 0069H §12.4.3 ICH_EISR_EL2, §12.4.4 ICH_ELRSR_EL2,
//    §12.4.7 ICH_MISR_EL2, §6.3 virtual highest-priority pending interrupt);
// 2. a vPE's pending index and its cached highest-priority pending enabled vLPI equal a
//    scan of the whole virtual pending table (§5.4: highest priority, ties to the lowest
//    vINTID, as QEMU gicv3_redist_vlpi_pending / update_for_vlpi choose).
import { GuestMemory, Tracer } from "@irqlab/sim";
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import {
  ICC_DIR_EL1,
  ICC_EOIR0_EL1,
  ICC_EOIR1_EL1,
  ICC_HPPIR1_EL1,
  ICC_IAR0_EL1,
  ICC_IAR1_EL1,
  ICH_HCR_EL2_EOIcount_SHIFT,
  ICH_HCR_EL2_En,
  ICH_HCR_EL2_LRENPIE,
  ICH_HCR_EL2_NPIE,
  ICH_HCR_EL2_UIE,
  ICH_HCR_EL2_VGrp0DIE,
  ICH_HCR_EL2_VGrp0EIE,
  ICH_HCR_EL2_VGrp1DIE,
  ICH_HCR_EL2_VGrp1EIE,
  ICH_LR_EOI_HI,
  ICH_LR_GROUP_HI,
  ICH_LR_HW_HI,
  ICH_LR_PRIORITY_HI_SHIFT,
  ICH_LR_STATE_HI_SHIFT,
  ICH_MISR_EL2_EOI,
  ICH_MISR_EL2_LRENP,
  ICH_MISR_EL2_NP,
  ICH_MISR_EL2_U,
  ICH_MISR_EL2_VGrp0D,
  ICH_MISR_EL2_VGrp0E,
  ICH_MISR_EL2_VGrp1D,
  ICH_MISR_EL2_VGrp1E,
  ICH_VMCR_EL2_VENG0,
  ICH_VMCR_EL2_VENG1,
} from "./gicv3-constants.js";
import { Gicv3HypInterface } from "./gicv3-hyp-interface.js";
import type { DirectVlpiSource } from "./direct-vlpi.js";
import { VpeTable, type Vpe } from "./v4/vpe.js";

/** ICH_EISR_EL2, ICH_ELRSR_EL2 and ICH_MISR_EL2 read straight from the LRs, HCR and VMCR. */
function referenceMaintenance(h: Gicv3HypInterface): { eisr: number; elrsr: number; misr: number } {
  let eisr = 0;
  let elrsr = 0;
  let valid = 0;
  let pending = false;
  for (let i = 0; i < h.lrHi.length; i++) {
    const hi = h.lrHi[i]!;
    const st = hi >>> ICH_LR_STATE_HI_SHIFT;
    const eoiMaint = (hi & ICH_LR_EOI_HI) !== 0 && (hi & ICH_LR_HW_HI) === 0;
    if (st === 0 && eoiMaint) eisr |= 1 << i;
    if (st === 0 && !eoiMaint) elrsr |= 1 << i;
    if (st !== 0) valid++;
    if (st === 1) pending = true;
  }
  const hcr = h.hcr;
  const eng0 = (h.vmcr & ICH_VMCR_EL2_VENG0) !== 0;
  const eng1 = (h.vmcr & ICH_VMCR_EL2_VENG1) !== 0;
  let misr = 0;
  if (eisr !== 0) misr |= ICH_MISR_EL2_EOI;
  if ((hcr & ICH_HCR_EL2_UIE) !== 0 && valid < 2) misr |= ICH_MISR_EL2_U;
  if ((hcr & ICH_HCR_EL2_LRENPIE) !== 0 && hcr >>> ICH_HCR_EL2_EOIcount_SHIFT !== 0) misr |= ICH_MISR_EL2_LRENP;
  if ((hcr & ICH_HCR_EL2_NPIE) !== 0 && !pending) misr |= ICH_MISR_EL2_NP;
  if ((hcr & ICH_HCR_EL2_VGrp0EIE) !== 0 && eng0) misr |= ICH_MISR_EL2_VGrp0E;
  if ((hcr & ICH_HCR_EL2_VGrp0DIE) !== 0 && !eng0) misr |= ICH_MISR_EL2_VGrp0D;
  if ((hcr & ICH_HCR_EL2_VGrp1EIE) !== 0 && eng1) misr |= ICH_MISR_EL2_VGrp1E;
  if ((hcr & ICH_HCR_EL2_VGrp1DIE) !== 0 && !eng1) misr |= ICH_MISR_EL2_VGrp1D;
  return { eisr, elrsr, misr };
}

/** The highest-priority pending LR in an enabled group, lowest index on ties, or -1 (no direct vLPIs). */
function referenceHppLr(h: Gicv3HypInterface): number {
  if ((h.hcr & ICH_HCR_EL2_En) === 0) return -1;
  let best = -1;
  let bestPrio = 0x100;
  h.lrHi.forEach((hi, i) => {
    if (hi >>> ICH_LR_STATE_HI_SHIFT !== 1) return;
    const enabled = (hi & ICH_LR_GROUP_HI) !== 0 ? (h.vmcr & ICH_VMCR_EL2_VENG1) !== 0 : (h.vmcr & ICH_VMCR_EL2_VENG0) !== 0;
    const prio = (hi >>> ICH_LR_PRIORITY_HI_SHIFT) & h.prio.priMask;
    if (enabled && prio < bestPrio) {
      bestPrio = prio;
      best = i;
    }
  });
  return best;
}

/** The LR holding active vINTID `intid`, lowest index first, or -1. */
function referenceActive(h: Gicv3HypInterface, intid: number): number {
  for (let i = 0; i < h.lrHi.length; i++) if ((h.lrHi[i]! >>> ICH_LR_STATE_HI_SHIFT) & 2 && h.lrLo[i] === intid) return i;
  return -1;
}

const lrHi = fc
  .record({ state: fc.integer({ min: 0, max: 3 }), prio: fc.integer({ min: 0, max: 255 }), group: fc.boolean(), hw: fc.boolean(), eoi: fc.boolean() })
  .map(({ state, prio, group, hw, eoi }) => ((state << ICH_LR_STATE_HI_SHIFT) | (prio << ICH_LR_PRIORITY_HI_SHIFT) | (group ? ICH_LR_GROUP_HI : 0) | (hw ? ICH_LR_HW_HI | 0x3f0 : eoi ? ICH_LR_EOI_HI : 0)) >>> 0);

const hypOp = fc.oneof(
  fc.record({ k: fc.constant("lr" as const), n: fc.integer({ min: 0, max: 3 }), vintid: fc.integer({ min: 20, max: 24 }), hi: lrHi }),
  fc.record({ k: fc.constant("hcr" as const), v: fc.integer({ min: 0, max: 0xffffffff }) }),
  fc.record({ k: fc.constant("vmcr" as const), v: fc.integer({ min: 0, max: 0xffffffff }) }),
  fc.record({ k: fc.constant("apr" as const), g: fc.integer({ min: 0, max: 1 }), v: fc.integer({ min: 0, max: 0xffffffff }) }),
  fc.record({ k: fc.constant("icv" as const), reg: fc.constantFrom(ICC_IAR0_EL1, ICC_IAR1_EL1, ICC_HPPIR1_EL1) }),
  fc.record({ k: fc.constant("eoi" as const), reg: fc.constantFrom(ICC_EOIR0_EL1, ICC_EOIR1_EL1, ICC_DIR_EL1), vintid: fc.integer({ min: 20, max: 24 }) }),
);

describe("cached virtual-interface state equals a from-scratch computation", () => {
  test("LR summary: MISR, EISR, ELRSR, hppvi() and findActive() under random LR/ICH/ICV traffic", () => {
    fc.assert(
      fc.property(fc.array(hypOp, { minLength: 1, maxLength: 60 }), (ops) => {
        const h = new Gicv3HypInterface({ listRegisters: 4, priBits: 5, v4: false, tracer: new Tracer(), track: 0 });
        const mustBeMaint: boolean[] = [];
        h.outputs.onMaintenance = (l) => mustBeMaint.push(l);
        for (const op of ops) {
          if (op.k === "lr") h.writeLr(op.n, op.vintid, op.hi);
          else if (op.k === "hcr") h.writeHcr(op.v);
          else if (op.k === "vmcr") h.writeVmcr(op.v);
          else if (op.k === "apr") h.writeApr(op.g, 0, op.v);
          else if (op.k === "icv") h.readIcv(op.reg);
          else h.writeIcv(op.reg, op.vintid);
          const ref = referenceMaintenance(h);
          expect(h.eisr).toBe(ref.eisr);
          expect(h.elrsr).toBe(ref.elrsr);
          expect(h.misr).toBe(ref.misr);
          expect(h.maintenanceLevel).toBe((h.hcr & ICH_HCR_EL2_En) !== 0 && ref.misr !== 0);
          expect(h.hppvi()).toBe(referenceHppLr(h));
          for (let v = 20; v <= 24; v++) expect(h.findActive(v)).toBe(referenceActive(h, v));
        }
        // Every maintenance edge reported matches the level now held.
        if (mustBeMaint.length > 0) expect(mustBeMaint.at(-1)).toBe(h.maintenanceLevel);
      }),
      { numRuns: 300 },
    );
  });

  test("vPE pending index: highestPending() and pendingCount equal a full VPT scan under random traffic", () => {
    const VCONF = 0x4000_0000;
    const memory = new GuestMemory();
    memory.addRam(VCONF, 0x10000);
    for (let a = 0; a < 0x10000; a += 4) memory.writeU32(VCONF + a, 0xa1a1a1a1);
    // A small pool of vINTIDs (same word, neighbouring words, far apart) and of priorities,
    // so that equal priorities, repeated injections and reconfigured pending vLPIs are common.
    const pool = [8192, 8193, 8200, 8223, 8224, 8230, 8192 + 32 * 37, 8192 + 32 * 37 + 5, 11000, 16383];
    const ids = fc.constantFrom(...pool);
    const prios = fc.constantFrom(0x20, 0xa0, 0xa4, 0xa7);
    const op = fc.oneof(
      { weight: 4, arbitrary: fc.record({ k: fc.constant("inject" as const), id: ids }) },
      { weight: 3, arbitrary: fc.record({ k: fc.constant("clear" as const), id: ids }) },
      { weight: 1, arbitrary: fc.record({ k: fc.constant("ack" as const) }) },
      { weight: 2, arbitrary: fc.record({ k: fc.constant("config" as const), id: ids, prio: prios, on: fc.boolean() }) },
      { weight: 1, arbitrary: fc.record({ k: fc.constant("mem" as const), id: ids, byte: fc.oneof(prios.map((p) => p | 1), fc.integer({ min: 0, max: 255 })), all: fc.boolean() }) },
      { weight: 1, arbitrary: fc.record({ k: fc.constant("vmapp" as const), idBits: fc.constantFrom(14, 15), ptz: fc.boolean() }) },
      { weight: 1, arbitrary: fc.record({ k: fc.constant("restore" as const) }) },
    );
    const scan = (v: Vpe): number => {
      let best = -1;
      for (let w = 8192 >>> 5; w < v.pending.length; w++) {
        if (v.pending[w] === 0) continue; // a plain skip of empty words, no index
        for (let id = w << 5; id < (w + 1) << 5; id++) {
          const c = v.config[id]!;
          if (v.isPending(id) && (c & 1) === 1 && (best < 0 || (c & 0xfc) < (v.config[best]! & 0xfc))) best = id;
        }
      }
      return best;
    };
    const popcount = (v: Vpe): number => [...v.pending].reduce((n, w) => n + w.toString(2).replaceAll("0", "").length, 0);
    fc.assert(
      fc.property(fc.array(op, { minLength: 1, maxLength: 80 }), (ops) => {
        for (const id of pool) memory.writeU8(VCONF + id - 8192, 0xa1); // priority 0xA0, enabled
        const vpes = new VpeTable({ memory });
        let v = vpes.map(7, 0, 0, 14, VCONF, 1023, true);
        for (const o of ops) {
          if (o.k === "inject") vpes.inject(v, o.id);
          else if (o.k === "clear") vpes.clear(v, o.id);
          else if (o.k === "ack") vpes.clear(v, vpes.highestPending(v));
          else if (o.k === "config") vpes.setConfig(v, o.id, o.prio, o.on);
          else if (o.k === "mem") {
            memory.writeU8(VCONF + o.id - 8192, o.byte);
            if (o.all) vpes.reloadConfig(v);
            else vpes.reloadConfigOne(v, o.id);
          } else if (o.k === "vmapp") v = vpes.map(7, 0, 0, o.idBits, VCONF, 1023, o.ptz);
          else {
            vpes.loadState(vpes.state());
            v = vpes.get(7)!;
          }
          expect(v.pendingCount).toBe(popcount(v));
          expect(vpes.highestPending(v)).toBe(scan(v));
          expect(vpes.hasPendingEnabled(v)).toBe(scan(v) >= 0);
        }
      }),
      { numRuns: 300 },
    );
  });

  test("a direct vLPI source's answer is re-read, not cached, by hppvi()", () => {
    let next = -1;
    const src: DirectVlpiSource = { highestPendingVlpi: () => next, vlpiPriority: () => 0x10, acknowledgeVlpi: () => undefined };
    const h = new Gicv3HypInterface({ listRegisters: 2, priBits: 5, v4: true, tracer: new Tracer(), track: 0 });
    h.writeHcr(ICH_HCR_EL2_En);
    h.writeVmcr(ICH_VMCR_EL2_VENG1 | (0xff << 24));
    h.directVlpi = src;
    expect(h.hppvi()).toBe(-1);
    next = 8200;
    expect(h.hppvi()).toBe(-2);
    expect(h.hppvlpi).toBe(8200);
  });
});
