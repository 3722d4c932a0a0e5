/**
 * KVM_RUN throughput, against targets of ≥ 20 M simulated in-kernel
 * hypercalls per second and ≥ 10 M MMIO exits to the VMM and re-entries per
 * second. Each bench name ends in "[xN]", the guest operations one call
 * executes (scripts/bench.mjs multiplies by it; the hypercall benches also
 * run one MMIO exit per call, not counted). `meta.virtualNsPerOp` is the
 * cost model's virtual time per operation, reported beside the wall time per
 * operation. `meta.bytesPerOp` is what one operation allocates on the heap
 * (alloc-meter.ts) with the guest written as a loop of yields — a generator
 * hands back a fresh iterator result at every resume — and
 * `meta.bytesPerOpRepeat` the same operations as one `op.repeat`, the run
 * loop's own share.
 */
import { op, type GuestOp, type GuestProgram } from "@irqlab/sim";
import { bench, describe } from "vitest";
import { DEFAULT_COSTS, KVM_ARM_TARGET_GENERIC_V8, KVM_EXIT_MMIO, Kvm, PSCI_0_2_FN_PSCI_VERSION, SBI_EXT_BASE, type Vcpu } from "../src/index.js";
import { bytesAllocatedPerOp } from "./alloc-meter.js";

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

function riscvVcpu(main: () => GuestProgram) {
  const kvm = new Kvm({ arch: "riscv64" });
  const v = kvm.createVm().createVcpu(0);
  v.loadGuest({ main });
  return v;
}

/** `body` HVC_PER_ITER times, then `exit`, for ever: as a loop of yields, or as one repeat. */
function hypercallLoop(body: GuestOp, exit: GuestOp, repeat: boolean): () => GuestProgram {
  const all = op.repeat(HVC_PER_ITER, body);
  return function* () {
    for (;;) {
      if (repeat) yield all;
      else for (let i = 0; i < HVC_PER_ITER; i++) yield body;
      yield exit;
    }
  };
}

/** Heap bytes per hypercall of a vCPU whose run() executes HVC_PER_ITER of them and one exit. */
function bytesPerHypercall(v: Vcpu): number {
  return Math.round((bytesAllocatedPerOp(() => void v.run(), 200) / HVC_PER_ITER) * 100) / 100;
}

describe("kvm run loop", () => {
  {
    // PSCI_VERSION is a PSCI function: a repeat of it runs one by one (only SMCCC queries outside PSCI pass in bulk).
    const hvc: GuestOp = op.hvc([PSCI_0_2_FN_PSCI_VERSION]);
    const exit: GuestOp = op.read(0x0a00_0000, 4);
    const v = armVcpu(hypercallLoop(hvc, exit, false));
    const bytesPerOp = bytesPerHypercall(v);
    const bytesPerOpRepeat = bytesPerHypercall(armVcpu(hypercallLoop(hvc, exit, true)));
    bench(
      `in-kernel HVC (PSCI_VERSION) loop, +1 MMIO exit per call [x${HVC_PER_ITER}]`,
      () => {
        v.run();
      },
      { meta: { virtualNsPerOp: DEFAULT_COSTS.hypercall, bytesPerOp, bytesPerOpRepeat } } as object,
    );
  }
  {
    // A BASE call: the loop of yields runs each one; a repeat of it would pass in bulk, so none is measured.
    const sbi: GuestOp = op.sbi(SBI_EXT_BASE, 0);
    const exit: GuestOp = op.read(0x1000_0000, 4);
    const v = riscvVcpu(hypercallLoop(sbi, exit, false));
    const bytesPerOp = bytesPerHypercall(v);
    bench(
      `in-kernel SBI ecall (BASE get_spec_version) loop, +1 MMIO exit per call [x${HVC_PER_ITER}]`,
      () => {
        v.run();
      },
      { meta: { virtualNsPerOp: DEFAULT_COSTS.hypercall, bytesPerOp } } as object,
    );
  }
  {
    const read: GuestOp = op.read(0x0a00_0008, 4);
    const v = armVcpu(function* () {
      for (;;) yield read;
    });
    const repeated = armVcpu(function* () {
      const all = op.repeat(2 ** 30, read);
      for (;;) yield all;
    });
    let n = 0;
    const exitAndAnswer = (w: Vcpu) => (): void => {
      const e = w.run();
      if (e.reason === KVM_EXIT_MMIO) e.value = n++;
    };
    const bytesPerOp = bytesAllocatedPerOp(exitAndAnswer(v), 100_000);
    const bytesPerOpRepeat = bytesAllocatedPerOp(exitAndAnswer(repeated), 100_000);
    bench(
      `MMIO read exit to the VMM, answered, re-entered [x${EXITS_PER_ITER}]`,
      () => {
        for (let i = 0; i < EXITS_PER_ITER; i++) {
          const e = v.run();
          if (e.reason === KVM_EXIT_MMIO) e.value = n++;
        }
      },
      { meta: { virtualNsPerOp: DEFAULT_COSTS.exitToUserspace, bytesPerOp, bytesPerOpRepeat } } as object,
    );
  }
});
