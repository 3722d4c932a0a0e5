/**
 * KVM_RUN throughput (issue 5 targets): in-kernel hypercalls ≥ 20 M simulated
 * ops/s; MMIO exit to the VMM and re-entry ≥ 10 M/s. Each bench name ends
 * in "[xN]", the guest operations one call executes (scripts/bench.mjs
 * multiplies by it; the hypercall benches also run one MMIO exit per call,
 * not counted). `meta.virtualNsPerOp` is the cost model's virtual time per
 * operation, reported beside the wall time per operation.
 */
import { op, type GuestOp, type GuestProgram } from "@irqlab/sim";
import { bench, describe } from "vitest";
import { DEFAULT_COSTS, KVM_ARM_TARGET_GENERIC_V8, KVM_EXIT_MMIO, Kvm, PSCI_0_2_FN_PSCI_VERSION, SBI_EXT_BASE } from "../src/index.js";

const HVC_PER_ITER = 1000;
// Several exits per iteration so that the harness's per-iteration timing does not dominate.
const EXITS_PER_ITER = 100;

function armVcpu(main: () => GuestProgram) {
  const kvm = new Kvm();
  const v = kvm.createVm().createVcpu(0);
  v.armVcpuInit({ target: KVM_ARM_TARGET_GENERIC_V8 });
  v.loadGuest({ main });
  return v;
}

describe("kvm run loop", () => {
  {
    const hvc: GuestOp = op.hvc([PSCI_0_2_FN_PSCI_VERSION]);
    const exit: GuestOp = op.read(0x0a00_0000, 4);
    const v = armVcpu(function* () {
      for (;;) {
        for (let i = 0; i < HVC_PER_ITER; i++) yield hvc;
        yield exit;
      }
    });
    bench(
      `in-kernel HVC (PSCI_VERSION) loop, +1 MMIO exit per call [x${HVC_PER_ITER}]`,
      () => {
        v.run();
      },
      { meta: { virtualNsPerOp: DEFAULT_COSTS.hypercall } } as object,
    );
  }
  {
    const sbi: GuestOp = op.sbi(SBI_EXT_BASE, 0);
    const exit: GuestOp = op.read(0x1000_0000, 4);
    const kvm = new Kvm({ arch: "riscv64" });
    const v = kvm.createVm().createVcpu(0);
    v.loadGuest({
      main: function* () {
        for (;;) {
          for (let i = 0; i < HVC_PER_ITER; i++) yield sbi;
          yield exit;
        }
      },
    });
    bench(
      `in-kernel SBI ecall (BASE get_spec_version) loop, +1 MMIO exit per call [x${HVC_PER_ITER}]`,
      () => {
        v.run();
      },
      { meta: { virtualNsPerOp: DEFAULT_COSTS.hypercall } } as object,
    );
  }
  {
    const read: GuestOp = op.read(0x0a00_0008, 4);
    const v = armVcpu(function* () {
      for (;;) yield read;
    });
    let n = 0;
    bench(
      `MMIO read exit to the VMM, answered, re-entered [x${EXITS_PER_ITER}]`,
      () => {
        for (let i = 0; i < EXITS_PER_ITER; i++) {
          const e = v.run();
          if (e.reason === KVM_EXIT_MMIO) e.value = n++;
        }
      },
      { meta: { virtualNsPerOp: DEFAULT_COSTS.exitToUserspace } } as object,
    );
  }
});
