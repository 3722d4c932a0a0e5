/**
 * Completing an exit on the next KVM_RUN (api.rst "KVM_RUN"; arm64
 * kvm_handle_mmio_return, RISC-V kvm_riscv_vcpu_mmio_return /
 * kvm_riscv_vcpu_sbi_return / kvm_riscv_vcpu_csr_return): before executing
 * anything, KVM_RUN hands the guest what the VMM wrote into kvm_run — the
 * MMIO read data, the SBI return pair, the CSR's old value, x0..x3 after a
 * forwarded hypercall or an SMCCC call that exited (what kvm_run.hypercall
 * or KVM_SET_ONE_REG left in them). This happens even when immediate_exit is
 * set, which is how a VMM flushes a pending completion before pausing a vCPU.
 */

import type { AccessSize, GuestResult } from "@irqlab/sim";
import type { KvmRun } from "./kvm-run.js";
import { gprHi, gprLo, gprNumber, setGprNumber, syncHypercallRegs, type GprFile } from "./gpr-file.js";

/** RISC-V a0 (x10) in the register file. */
const RISCV_A0 = 10;

/** No completion pending. */
export const PENDING_NONE = 0;
/** An MMIO read waits for `kvm_run.mmio.data`. */
export const PENDING_MMIO_READ = 1;
/** An SBI call waits for `kvm_run.riscv_sbi.ret`. */
export const PENDING_SBI = 2;
/** A CSR access waits for `kvm_run.riscv_csr.ret_value`. */
export const PENDING_CSR = 3;
/** A forwarded hypercall waits for x0..x3. */
export const PENDING_HYPERCALL = 4;
/** An arm64 SMCCC call that exited (SYSTEM_SUSPEND, a system event) returns x0..x3 as they are then. */
export const PENDING_SMCCC_REGS = 5;

/** The run-loop state a completion writes. */
export interface ExitCompletion {
  /** What the previous exit left pending (PENDING_*). */
  pending: number;
  /** The result the guest program is resumed with. */
  readonly result: GuestResult;
  /** For a pending MMIO read: the register width a sign-extending load fills (32, 64), 0 to zero-extend. */
  mmioSignExtend: number;
  /** The general-purpose registers (gpr-file.ts): a forwarded hypercall's x0..x3 land there. */
  readonly gprs: GprFile;
}

/**
 * Sign-extends a loaded value of `size` bytes in `r` into a register of
 * `regBits` bits, as arm64 kvm_handle_mmio_return does with the data abort's
 * ESR (arch/arm64/kvm/mmio.c: SSE and len < sizeof(long) → data = (data ^
 * mask) - mask; !SF → data & 0xffffffff) and RISC-V kvm_riscv_vcpu_mmio_return
 * with its decoded shift (arch/riscv/kvm/vcpu_insn.c: (long)(data << shift) >>
 * shift for LB/LH/LW). A load from RAM gets the same from the hardware.
 */
export function signExtendLoad(r: GuestResult, size: AccessSize, regBits: number): void {
  if (size === 8) {
    if (regBits === 32) r.hi = 0;
    return;
  }
  const v = r.value;
  const negative = size === 4 ? v >= 0x8000_0000 : (v & (1 << (size * 8 - 1))) !== 0;
  if (negative && size !== 4) r.value = (v | (-1 << (size * 8))) >>> 0;
  r.hi = negative && regBits === 64 ? 0xffff_ffff : 0;
}

const SIZE_MASK = [0, 0xff, 0xffff, 0, 0xffff_ffff];

/** Applies the pending completion, if any, from `run` to `target.result`. */
export function completeExit(target: ExitCompletion, run: KvmRun): void {
  const p = target.pending;
  if (p === PENDING_NONE) return;
  target.pending = PENDING_NONE;
  const r = target.result;
  switch (p) {
    case PENDING_MMIO_READ: {
      const m = run.mmio;
      r.value = m.len === 8 ? m.value : (m.value & SIZE_MASK[m.len]!) >>> 0;
      r.hi = m.len === 8 ? m.hi : 0;
      r.error = 0;
      if (target.mmioSignExtend !== 0) signExtendLoad(r, m.len, target.mmioSignExtend);
      break;
    }
    case PENDING_SBI:
      r.error = run.riscvSbi.ret[0] ?? 0;
      r.value = run.riscvSbi.ret[1] ?? 0;
      r.hi = 0;
      // kvm_riscv_vcpu_sbi_return: a0/a1 := ret[0]/ret[1], over whatever KVM_SET_ONE_REG wrote meanwhile.
      setGprNumber(target.gprs, RISCV_A0, r.error);
      setGprNumber(target.gprs, RISCV_A0 + 1, r.value);
      break;
    case PENDING_CSR: {
      const v = BigInt.asUintN(64, run.riscvCsr.retValue);
      r.value = Number(v & 0xffff_ffffn);
      r.hi = Number(v >> 32n);
      r.error = 0;
      break;
    }
    case PENDING_HYPERCALL: {
      // The VMM answered through kvm_run.hypercall.regs or KVM_SET_ONE_REG of x0..x3: both end up in the registers.
      const regs = run.hypercall.regs;
      const g = target.gprs;
      syncHypercallRegs(g, regs);
      r.regs = [regs[0] ?? 0, regs[1] ?? 0, regs[2] ?? 0, regs[3] ?? 0];
      r.value = gprLo(g, 0);
      r.hi = gprHi(g, 0);
      r.error = 0;
      break;
    }
    case PENDING_SMCCC_REGS: {
      const g = target.gprs;
      r.regs = [gprNumber(g, 0), gprNumber(g, 1), gprNumber(g, 2), gprNumber(g, 3)];
      r.value = gprLo(g, 0);
      r.hi = gprHi(g, 0);
      r.error = 0;
      break;
    }
    default:
      break;
  }
}
