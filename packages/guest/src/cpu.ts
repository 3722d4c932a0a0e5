/**
 * CPU-level helpers every piece of guest code uses: the pause of a polling
 * loop, and the one Arm system register the boot layer reads.
 */

import { op, sysReg, type ComputeOp } from "@irqlab/sim";

/**
 * Virtual time one turn of a polling loop spends besides its load: Linux's
 * cpu_relax() (a YIELD on arm64, PAUSE/NOP on riscv64) plus the loop's branch.
 */
export const CPU_RELAX_NS = 10;

const RELAX: ComputeOp = op.compute(CPU_RELAX_NS);

/** cpu_relax(): yield it between two polls of a device or memory word. */
export function cpuRelax(): ComputeOp {
  return RELAX;
}

/** MPIDR_EL1 (op0 3, op1 0, CRn 0, CRm 0, op2 5; Arm ARM D23.2). */
export const MPIDR_EL1 = sysReg(3, 0, 0, 0, 5);
