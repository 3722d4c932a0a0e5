/**
 * APLIC MSI hot path: one iteration = a rising edge on the wire of an Edge1
 * source in an MSI-mode domain, which forwards an MSI through the MMIO bus
 * into an IMSIC S-level file's `seteipnum_le`; then the falling edge and the
 * claim at the IMSIC (`stopei` write), so that every iteration sets a pending
 * bit again. Target: ≥ 10 M/s. One call runs 1000 operations
 * ("[x1000]", multiplied out by scripts/bench.mjs) to take the harness's
 * per-call overhead out of the figure.
 */
import { MmioBus } from "@irqlab/sim";
import { bench, describe } from "vitest";
import {
  APLIC_DOMAINCFG,
  APLIC_DOMAINCFG_DM,
  APLIC_DOMAINCFG_IE,
  APLIC_SETIENUM,
  APLIC_SM_EDGE_RISE,
  APLIC_SOURCECFG_BASE,
  APLIC_TARGET_BASE,
  APLIC_TARGET_HART_SHIFT,
  Aplic,
  ImsicHart,
  ImsicLayout,
  ISELECT_EIDELIVERY,
  ISELECT_EIE0,
} from "../src/index.js";

const bus = new MmioBus();
const layout = new ImsicLayout({ mBase: 0x2400_0000, sBase: 0x2800_0000, hartBits: 2 });
const harts = [0, 1, 2, 3].map((h) => new ImsicHart({ hartIndex: h, mIds: 255, sIds: 255 }));
harts.forEach((h, i) => h.mapInto(bus, layout, 0, i));
const s1 = harts[1]!.s!;
s1.writeIreg(ISELECT_EIDELIVERY, 64, 1, 0);
s1.writeIreg(ISELECT_EIE0, 64, 0xfffffffe, 0xffffffff);

const aplic = new Aplic({
  nrSources: 96,
  domains: [
    { name: "m", level: "m", harts: 4 },
    { name: "s", level: "s", parent: "m", harts: 4 },
  ],
  msi: { bus, addrCfg: layout.toMsiAddrCfg() },
});
const m = aplic.domain("m");
const s = aplic.domain("s");
const src = 5;
m.write(APLIC_SOURCECFG_BASE + 4 * (src - 1), 4, 0x400 /* D=1, child 0 */, 0);
s.write(APLIC_SOURCECFG_BASE + 4 * (src - 1), 4, APLIC_SM_EDGE_RISE, 0);
s.write(APLIC_DOMAINCFG, 4, APLIC_DOMAINCFG_IE | APLIC_DOMAINCFG_DM, 0);
s.write(APLIC_TARGET_BASE + 4 * (src - 1), 4, (1 << APLIC_TARGET_HART_SHIFT) | 42, 0);
s.write(APLIC_SETIENUM, 4, src, 0);

let sink = 0;
describe("aplic", () => {
  bench("wire rising edge -> MSI through MmioBus into IMSIC file (+ falling edge, claim) [x1000]", () => {
    for (let n = 0; n < 1000; n++) {
      aplic.setWire(src, 1);
      aplic.setWire(src, 0);
      sink ^= s1.writeTopei();
    }
  });
});

export { sink };
