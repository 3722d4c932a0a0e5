/**
 * A vCPU's general-purpose registers as KVM_GET/SET_ONE_REG see them: 32
 * 64-bit registers (arm64 x0..x30 and SP in slot 31; RISC-V x0..x31). The
 * run loop writes them from the guest's operands on every hypercall, so they
 * are kept as JavaScript numbers — one store per register, no conversion, no
 * allocation — in the model's convention for register operands
 * (HypercallOp args, HypercallExit regs): an integer, negative for a value
 * with bit 63 set (its two's complement), exact below 2^53 in magnitude. A
 * value written through ONE_REG that a number cannot hold exactly is kept
 * beside it as a bigint until the register is next written.
 */

const TWO_32 = 2 ** 32;

/** The register file. */
export class GprFile {
  /** Each register as a number (see the module comment). */
  readonly num = new Float64Array(32);
  /**
   * Exact unsigned values of the registers whose bit is set in `exactMask`:
   * made at the first such value (a VMM's ONE_REG write of one), since most
   * vCPUs never hold one.
   */
  exact: bigint[] | undefined;
  /** Registers whose `num` only approximates their value. */
  exactMask = 0;

  /** All registers zero. */
  clear(): void {
    this.num.fill(0);
    this.exactMask = 0;
  }
}

/** A fresh register file (all zero). */
export function newGprFile(): GprFile {
  return new GprFile();
}

/** Register `i` := `v` (an integer JS number; negative = two's complement). */
export function setGprNumber(g: GprFile, i: number, v: number): void {
  g.num[i] = v;
  if (g.exactMask !== 0) g.exactMask &= ~(1 << i);
}

/** Register `i` as a JS number: negative when bit 63 is set (the model's convention for error codes). */
export function gprNumber(g: GprFile, i: number): number {
  if ((g.exactMask & (1 << i)) !== 0) return Number(BigInt.asIntN(64, g.exact![i]!));
  return g.num[i]!;
}

/** Register `i` exactly, as an unsigned 64-bit bigint. */
export function gprBig(g: GprFile, i: number): bigint {
  if ((g.exactMask & (1 << i)) !== 0) return g.exact![i]!;
  // Operands are integers by contract; a stray fraction or NaN from a guest must not make the ioctl throw.
  const n = g.num[i]!;
  const v = Number.isFinite(n) ? Math.trunc(n) : 0;
  return BigInt.asUintN(64, BigInt(v));
}

/** Register `i` := the low 64 bits of `v`. */
export function setGprBig(g: GprFile, i: number, v: bigint): void {
  const u = BigInt.asUintN(64, v);
  const s = BigInt.asIntN(64, u);
  const n = Number(s);
  g.num[i] = n;
  if (BigInt(n) === s) g.exactMask &= ~(1 << i);
  else {
    (g.exact ??= new Array<bigint>(32).fill(0n))[i] = u;
    g.exactMask |= 1 << i;
  }
}

/** The low 32 bits of register `i`. */
export function gprLo(g: GprFile, i: number): number {
  if ((g.exactMask & (1 << i)) !== 0) return Number(g.exact![i]! & 0xffff_ffffn);
  return g.num[i]! >>> 0;
}

/** The high 32 bits of register `i`. */
export function gprHi(g: GprFile, i: number): number {
  if ((g.exactMask & (1 << i)) !== 0) return Number(g.exact![i]! >> 32n);
  return Math.floor(g.num[i]! / TWO_32) >>> 0;
}

/**
 * Makes x0..x3 and a forwarded hypercall's `regs` agree: where the VMM wrote
 * `regs[i]` since the register was last synchronised, the register takes
 * that value; otherwise `regs[i]` already equals it (as a number).
 */
export function syncHypercallRegs(g: GprFile, regs: number[]): void {
  for (let i = 0; i < 4; i++) {
    const v = regs[i] ?? 0;
    if (gprNumber(g, i) !== v) setGprNumber(g, i, v);
  }
}
