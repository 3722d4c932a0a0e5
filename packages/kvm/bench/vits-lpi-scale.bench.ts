/**
 * LPI delivery cost through the vITS as the number of mapped LPIs grows
 * (64, 1 K, 8 K and all 57,344 LPIs a 16-bit vgic implements). The guest has
 * mapped N LPIs as a driver with many MSI-X functions would: DeviceIDs of 32
 * events each (one ITT per device), one collection on vCPU 0. One operation:
 * vgic_its_inject_msi (what KVM_SIGNAL_MSI and an irqfd's MSI route call; the translation cache) →
 * LPI pending on the vCPU's redistributor → the guest acknowledges it with
 * ICC_IAR1_EL1 and completes it with ICC_EOIR1_EL1. The MSIs walk all N
 * (DeviceID, EventID) pairs in turn, so every mapped translation is used.
 * The wall time per delivered LPI should not grow with N. `meta.bytesPerOp`
 * is what one delivery allocates on the heap (alloc-meter.ts).
 */
import { GICR_PROPBASER, ICC_EOIR1_EL1, ICC_IAR1_EL1, ICC_IGRPEN1_EL1, ICC_PMR_EL1, itsCommand as cmd } from "@irqlab/gic";
import { bench, describe } from "vitest";
import type { KvmMsi } from "../src/irqchip.js";
import { vgicItsInjectMsi } from "../src/vgic/its/vits-msi.js";
import { ITT, PROP, msi, vmWithVits } from "../src/vgic/its/vits-rig.js";
import { bytesAllocatedPerOp } from "./alloc-meter.js";

const PER_CALL = 1000;
const EVENTS_PER_DEVICE = 32;
/** MAPD Size field: EventID bits − 1. */
const ITT_SIZE = Math.log2(EVENTS_PER_DEVICE) - 1;
/** Bytes of ITT per device (KVM's 8-byte ITEs), so that 1,792 devices fit the rig's RAM. */
const ITT_STRIDE = EVENTS_PER_DEVICE * 8;
const FIRST_DEVICE = 0x100;

function setup(n: number) {
  const t = vmWithVits(1);
  const { vm, gic, driver } = t;
  for (let i = 0; i < n; i++) vm.memory.writeU8(PROP + i, 0xa0 | 3); // priority 0xA0, Group 1, enabled
  // 16 ID bits: 57,344 LPIs (vmWithVits programmed the same value; written again so the bench says so).
  gic.redistributors.write(GICR_PROPBASER, 8, PROP | 15, 0);
  gic.writeSysReg(0, ICC_PMR_EL1, 0xff);
  gic.writeSysReg(0, ICC_IGRPEN1_EL1, 1);
  driver.enable();
  driver.submit(cmd.mapc(0, 0));
  const msis: KvmMsi[] = [];
  const devices = Math.ceil(n / EVENTS_PER_DEVICE);
  for (let d = 0; d < devices; d++) {
    const dev = FIRST_DEVICE + d;
    const batch: number[][] = [cmd.mapd(dev, ITT + d * ITT_STRIDE, ITT_SIZE)];
    for (let e = 0; e < EVENTS_PER_DEVICE && msis.length < n; e++) {
      batch.push(cmd.mapti(dev, e, 8192 + msis.length, 0));
      msis.push(msi(dev, e));
    }
    driver.submit(...batch);
  }
  const its = t.dev.its;
  if (its.commandErrors !== 0) throw new Error(`bench setup: ${its.errors()[0]?.detail ?? ""}`);
  // Every LPI once, so that each translation is checked and cached before timing.
  for (let i = 0; i < n; i++) {
    if (vgicItsInjectMsi(vm, msis[i]!) !== 1) throw new Error(`bench setup: MSI ${i} not delivered`);
    const intid = gic.readSysReg(0, ICC_IAR1_EL1);
    if (intid !== 8192 + i) throw new Error(`bench setup: IAR returned ${intid}, expected ${8192 + i}`);
    gic.writeSysReg(0, ICC_EOIR1_EL1, intid);
  }
  return { vm, gic, msis };
}

describe("@irqlab/kvm vITS LPI delivery at scale", () => {
  for (const n of [64, 1024, 8192, 57344]) {
    const { vm, gic, msis } = setup(n);
    let k = 0;
    const deliver = (): void => {
      vgicItsInjectMsi(vm, msis[k]!);
      gic.writeSysReg(0, ICC_EOIR1_EL1, gic.readSysReg(0, ICC_IAR1_EL1));
      k = k + 1 === n ? 0 : k + 1;
    };
    const bytesPerOp = bytesAllocatedPerOp(deliver, 20_000);
    bench(
      `vgic_its_inject_msi → vITS → LPI → ICC_IAR1/EOIR1 on the vCPU, ${n} mapped LPIs [x${PER_CALL}]`,
      () => {
        for (let i = 0; i < PER_CALL; i++) deliver();
      },
      { meta: { mappedLpis: n, bytesPerOp } } as object,
    );
  }
});
