/** Runs the ITS example of packages/gic/README.md verbatim (imports adjusted to the source tree). */
import { GuestMemory } from "@irqlab/sim";
import { expect, it } from "vitest";
import type { LpiTarget } from "../lpi-target.js";
import {
  GITS_BASER,
  GITS_BASER_HI_VALID,
  GITS_CBASER,
  GITS_CBASER_HI_VALID,
  GITS_CTLR,
  GITS_CTLR_ENABLE,
  GITS_CWRITER,
  GITS_TRANSLATER,
  Its,
  itsCommand,
  writeItsCommand,
} from "./index.js";

it("the README ITS example delivers EventID 3 of DeviceID 7 as LPI 8195 on PE 1", () => {
  const lines: string[] = [];
  const console = { log: (x: unknown) => lines.push(JSON.stringify(x)) };
  // ---- example (README.md, ITS section) ----
  const memory = new GuestMemory();
  memory.addRam(0x4000_0000, 0x100_0000);
  const pending: string[] = [];
  const target: LpiTarget = {
    redistributorCount: 2,
    setLpiPending: (rd, intid) => pending.push(`${rd}:${intid}`),
    clearLpiPending: () => undefined,
    isLpiPending: () => false,
    invalidateLpi: () => undefined,
    invalidateAllLpis: () => undefined,
  };
  const its = new Its({ profile: "linux-kvm", target, memory });
  its.write(GITS_CBASER, 8, 0x4000_0000, GITS_CBASER_HI_VALID); // 4 KiB command queue
  its.write(GITS_BASER, 8, 0x4010_0000, GITS_BASER_HI_VALID); // device table
  its.write(GITS_BASER + 8, 8, 0x4020_0000, GITS_BASER_HI_VALID); // collection table
  its.write(GITS_CTLR, 4, GITS_CTLR_ENABLE, 0);
  const cmds = [itsCommand.mapd(7, 0x4030_0000, 4), itsCommand.mapc(0, 1), itsCommand.mapti(7, 3, 8195, 0)];
  cmds.forEach((c, i) => writeItsCommand(memory, 0x4000_0000 + 32 * i, c));
  its.write(GITS_CWRITER, 8, 32 * cmds.length, 0); // the ITS runs the three commands
  its.requesterId = 7; // the bus carries the DeviceID
  its.write(GITS_TRANSLATER, 4, 3, 0); // the device's MSI: EventID 3
  console.log(pending); // ["1:8195"]
  // ---- end of example ----
  expect(lines).toEqual(['["1:8195"]']);
  expect(its.commandErrors).toBe(0);
});
