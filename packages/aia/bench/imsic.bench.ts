/**
 * IMSIC hot path: one iteration = one `seteipnum_le` MMIO write, one `*topei`
 * read and one claim (`*topei` write) on a file of 2047 identities, the
 * delivery line toggling each time. Target: ≥ 20 M/s. One call runs
 * 1000 operations so that the harness's per-call overhead does not dominate;
 * scripts/bench.mjs multiplies by the "[x1000]" of the name.
 */
import { bench, describe } from "vitest";
import { ImsicFile, ISELECT_EIDELIVERY, ISELECT_EIE0 } from "../src/index.js";

const file = new ImsicFile({ nrIds: 2047, onDelivery: () => undefined });
file.writeIreg(ISELECT_EIDELIVERY, 64, 1, 0);
for (let k = 0; k < 64; k += 2) file.writeIreg(ISELECT_EIE0 + k, 64, 0xffffffff, 0xffffffff);
let id = 1;
let sink = 0;

describe("imsic-file", () => {
  bench("seteipnum_le write -> topei read -> claim, 2047 ids [x1000]", () => {
    for (let n = 0; n < 1000; n++) {
      id = id >= 2047 ? 1 : id + 1;
      file.write(0, 4, id, 0);
      sink ^= file.readTopei();
      file.writeTopei();
    }
  });
});

export { sink };
