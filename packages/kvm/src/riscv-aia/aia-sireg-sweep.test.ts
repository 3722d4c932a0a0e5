/**
 * Every `siselect` number through a vCPU's indirect-CSR interface (sireg,
 * csrrw / csrrs / csrrc), with the SW-file (sireg traps to KVM) and with a
 * VS-file (no trap): nothing throws, every value is a pair of unsigned 32-bit
 * words, and each access has exactly one outcome: a register value, an exit
 * to userspace (KVM_EXIT_RISCV_CSR, trapped accesses only), or one counted
 * guest error.
 *
 * The numbers (arch/riscv/kvm/aia.c kvm_riscv_vcpu_aia_rmw_ireg, aia_imsic.c
 * kvm_riscv_vcpu_aia_imsic_rmw / imsic_mrif_isel_check): 0x30–0x3F the major
 * interrupt priorities (read 0 here); 0x70 / 0x72 eidelivery / eithreshold;
 * 0x80–0xFF the even eipK / eieK below N (an odd one, or one beyond N, is
 * -EINVAL: illegal instruction, counted); the reserved 0x71, 0x73–0x7F and
 * every other number, including the custom ones with the top bit set (the
 * model's siselect keeps 9 bits, a WARL choice), exit to userspace when
 * trapped and are a counted guest error through a VS-file.
 *
 * Regression: an eipK/eieK number the IMSIC file refused (odd on RV64, beyond
 * N) was counted twice, once by the file and once by the vCPU.
 */

import { Tracer, type WideValue } from "@irqlab/sim";
import { describe, expect, test } from "vitest";
import { CSR_EXIT_TO_USER } from "../irqchip.js";
import { Host } from "../host.js";
import { Kvm } from "../kvm.js";
import { createAiaVm } from "../../test/aia-test-kit.js";
import { registerRiscvAia } from "./aia-register.js";
import { CSR_SIREG, CSR_SISELECT } from "./aia-vcpu.js";

const OPS = ["csrrw", "csrrs", "csrrc"] as const;

function u32(v: number): boolean {
  return Number.isInteger(v) && v >= 0 && v < 2 ** 32;
}

/** What sireg at `isel` must do: "value" (no guest error), "exit" (trapped only) or "error" (one guest error). */
function outcome(isel: number, nrIds: number, trapped: boolean): "value" | "exit" | "error" {
  if (isel >= 0x30 && isel <= 0x3f) return "value";
  if (isel === 0x70 || isel === 0x72) return "value";
  if (isel >= 0x80 && isel <= 0xff) {
    const k = isel & 0x3f;
    return (k & 1) !== 0 || k >= (nrIds + 1) / 32 ? "error" : "value";
  }
  return trapped ? "exit" : "error";
}

describe("sireg at every siselect, SW-file and VS-file", () => {
  for (const file of ["SW-file", "VS-file"] as const) {
    test(`${file}: one outcome per access, unsigned words`, () => {
      const tracer = new Tracer();
      const kvm = new Kvm({ arch: "riscv64", host: new Host({ cpus: 1 }) });
      registerRiscvAia(kvm, { geilen: 1, tracer });
      const { vm, aia } = createAiaVm(kvm, { vcpus: 1 });
      const chip = aia.chip(0)!;
      if (file === "VS-file") expect(chip.flush(0)).toBe(0);
      expect(chip.vsFileHgei > 0).toBe(file === "VS-file");
      const nrIds = chip.currentFile!.nrIds;
      const errors = (): number => tracer.guestErrors + (vm.tracer === tracer ? 0 : vm.tracer.guestErrors);
      const wide: WideValue = { hi: 0 };
      const bad: string[] = [];
      const numbers = [...Array.from({ length: 0x1000 }, (_, i) => i), 2 ** 31 + 0x30, 2 ** 31 + 0x70, 2 ** 32 - 1];
      for (const isel of numbers) {
        chip.csr("csrrw", CSR_SISELECT, isel >>> 0, 0, wide);
        const want = outcome(isel & 0x1ff, nrIds, file === "SW-file");
        for (const op of OPS) {
          const before = errors();
          wide.hi = -1;
          // Clearing and setting zero bits, or writing back 0: the file keeps its state for the next number.
          const v = chip.csr(op, CSR_SIREG, 0, 0, wide);
          const n = errors() - before;
          const got = v === CSR_EXIT_TO_USER ? "exit" : n === 1 ? "error" : n === 0 ? "value" : `${n} errors`;
          if (got !== want || (v !== CSR_EXIT_TO_USER && !(u32(v) && u32(wide.hi)))) {
            bad.push(`siselect 0x${isel.toString(16)} ${op}: ${v}:${wide.hi}, ${got}, want ${want}`);
          }
        }
      }
      expect(bad.slice(0, 20)).toEqual([]);
    });
  }
});
