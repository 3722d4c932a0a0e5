/**
 * VS-file allocate + release through the KVM entry path (target:
 * ≥ 10 M/s): AiaVcpuChip.flush(hostCpu), i.e. kvm_riscv_vcpu_aia_imsic_update.
 * One operation = one guest entry on the other hart: allocate the lowest free
 * line there, zero that file, remap, read-and-clear the old VS-file and
 * OR-merge it into the new one, free the old line. Host: 64 harts × 5 guest
 * files of 255 identities, most lines taken by other vCPUs; the moving
 * vCPU has two identities pending and enabled so the merge carries state.
 */
import { bench, describe } from "vitest";
import { Host } from "../src/host.js";
import { Kvm } from "../src/kvm.js";
import { registerRiscvAia } from "../src/riscv-aia/aia-register.js";
import { createAiaVm } from "../test/aia-test-kit.js";
import { KVM_DEV_RISCV_AIA_MODE_HWACCEL } from "../src/riscv-aia/aia-uapi.js";

const BATCH = 10_000;

describe("@irqlab/kvm RISC-V VS-files through the entry path", () => {
  const kvm = new Kvm({ arch: "riscv64", host: new Host({ cpus: 64 }) });
  const aia = registerRiscvAia(kvm, { geilen: 5 });
  const others = createAiaVm(kvm, { vcpus: 64 * 4, mode: KVM_DEV_RISCV_AIA_MODE_HWACCEL, name: "others" });
  for (let i = 0; i < 64 * 4; i++) others.aia.chip(i)!.flush(i >> 2);
  const v = createAiaVm(kvm, { vcpus: 1, mode: KVM_DEV_RISCV_AIA_MODE_HWACCEL, name: "mover", imsicBase: 0x3000_0000 });
  const chip = v.aia.chip(0)!;
  chip.flush(0);
  const f = chip.currentFile!;
  f.setEnabled(5, true);
  f.setEnabled(200, true);
  f.setPending(5);
  f.setPending(200);
  f.writeEidelivery(1);
  let cpu = 0;
  bench(`VS-file allocate + release on entry (flush, 64 harts x 5 files) [x${BATCH}]`, () => {
    for (let i = 0; i < BATCH; i++) {
      cpu = (cpu + 1) & 63;
      if (chip.flush(cpu) !== 0) throw new Error("entry refused");
    }
  });
  // The common case: entry on the hart that already holds the file (Linux returns at once).
  bench(`VS-file kept: entry on the same hart (flush fast path) [x${BATCH}]`, () => {
    for (let i = 0; i < BATCH; i++) {
      if (chip.flush(cpu) !== 0) throw new Error("entry refused");
    }
  });
  if (aia.allocator.totalFree !== 64 * 5 - 64 * 4 - 1) throw new Error("allocator out of balance");
});
