/**
 * The SBI debug console of a riscv64 guest without a UART: the Debug Console
 * extension's console_write_byte (DBCN, SBI v2.0 chapter 12) when
 * sbi_probe_extension finds it, else the legacy console_putchar (EID 0x01,
 * chapter 5) — the order Linux's hvc_riscv_sbi and `earlycon=sbi` use.
 * Under KVM both are forwarded to the VMM as KVM_EXIT_RISCV_SBI.
 */

import type { GuestCode } from "../guest-image.js";
import {
  SBI_EXT_0_1_CONSOLE_PUTCHAR,
  SBI_EXT_DBCN,
  SBI_EXT_DBCN_CONSOLE_WRITE_BYTE,
  sbiCall,
  sbiProbeExtension,
} from "../power/sbi.js";

/** An SBI console: DBCN write_byte or the legacy putchar. */
export interface SbiConsole {
  readonly kind: "sbi-dbcn" | "sbi-legacy";
}

/** Probes for DBCN and returns the console to use. */
export function* openSbiConsole(): GuestCode<SbiConsole> {
  return { kind: (yield* sbiProbeExtension(SBI_EXT_DBCN)) ? "sbi-dbcn" : "sbi-legacy" };
}

/** Writes `bytes` one ecall per byte. */
export function* sbiConsoleWrite(console: SbiConsole, bytes: Uint8Array): GuestCode {
  for (const byte of bytes) {
    if (console.kind === "sbi-dbcn") yield* sbiCall(SBI_EXT_DBCN, SBI_EXT_DBCN_CONSOLE_WRITE_BYTE, [byte]);
    else yield* sbiCall(SBI_EXT_0_1_CONSOLE_PUTCHAR, 0, [byte]);
  }
}
