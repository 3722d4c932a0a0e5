/**
 * What kvm-unit-tests prints and how it ends, for the images that replay its
 * arm tests: lib/report.c (report prefixes, the "PASS: " / "FAIL: " /
 * "SKIP: " lines, report_info's "INFO: ", report_abort's "ABORT: ", and
 * report_summary's "SUMMARY: N tests[, M unexpected failures][, K skipped]"
 * with its return value 0, 1, or 77 >> 1 when everything was skipped), and
 * lib/arm/io.c exit(): print "\nEXIT: STATUS=<code << 1 | 1>\n" (what
 * scripts/arch-run.bash reads when no chr-testdev is present; 1 means
 * success), then PSCI SYSTEM_OFF (lib/arm/psci.c psci_system_off, which
 * prints "CPU%d unable to do system off (error = %d)" if the call returns),
 * then halt. abort() is exit(63) (lib/abort.c ABORT_EXIT_STATUS).
 *
 * QEMU itself exits with status 0 after a guest's SYSTEM_OFF; the test's own
 * status is the EXIT line.
 */

import type { BootedGuest } from "../boot/boot.js";
import { halt } from "../boot/panic.js";
import { putString } from "../console/console.js";
import type { GuestCode } from "../guest-image.js";
import { psciSystemOff } from "../power/psci.js";

/** lib/abort.c ABORT_EXIT_STATUS. */
export const ABORT_EXIT_STATUS = 63;
/** report_summary()'s value when every test was skipped (77 >> 1). */
export const ALL_SKIPPED_STATUS = 77 >> 1;

/** The report state of one test program (kernel data: lib/report.c's statics). */
export class UnitTestReport {
  readonly sys: BootedGuest;
  tests = 0;
  failures = 0;
  skipped = 0;
  #prefixes: string[] = [];

  constructor(sys: BootedGuest) {
    this.sys = sys;
  }

  /** The current prefix: every pushed prefix followed by ": ". */
  get prefix(): string {
    return this.#prefixes.map((p) => `${p}: `).join("");
  }

  /** report_prefix_push(). */
  push(prefix: string): void {
    this.#prefixes.push(prefix);
  }

  /** report_prefix_pop(). */
  pop(): void {
    this.#prefixes.pop();
  }

  /** printf() of `text` as is. */
  *print(text: string): GuestCode {
    yield* putString(this.sys.console, text);
  }

  /** report(pass, msg): "PASS: <prefix><msg>" or "FAIL: …". Returns `pass`. */
  *report(pass: boolean, msg: string): GuestCode<boolean> {
    this.tests++;
    if (!pass) this.failures++;
    yield* this.print(`${pass ? "PASS" : "FAIL"}: ${this.prefix}${msg}\n`);
    return pass;
  }

  /** report_skip(msg): "SKIP: <prefix><msg>". */
  *skip(msg: string): GuestCode {
    this.tests++;
    this.skipped++;
    yield* this.print(`SKIP: ${this.prefix}${msg}\n`);
  }

  /** report_info(msg): "INFO: <prefix><msg>". */
  *info(msg: string): GuestCode {
    yield* this.print(`INFO: ${this.prefix}${msg}\n`);
  }

  /** report_summary(): prints the SUMMARY line and returns the exit code. */
  *summary(): GuestCode<number> {
    let line = `SUMMARY: ${this.tests} tests`;
    if (this.failures > 0) line += `, ${this.failures} unexpected failures`;
    if (this.skipped > 0) line += `, ${this.skipped} skipped`;
    yield* this.print(`${line}\n`);
    if (this.tests === this.skipped) return ALL_SKIPPED_STATUS;
    return this.failures > 0 ? 1 : 0;
  }

  /** report_abort(msg): "ABORT: <prefix><msg>", the summary, then abort(). */
  *abort(msg: string, cpu = 0): GuestCode<never> {
    yield* this.print(`ABORT: ${this.prefix}${msg}\n`);
    yield* this.summary();
    return yield* unitTestExit(this.sys, ABORT_EXIT_STATUS, cpu);
  }
}

/** lib/arm/io.c exit(code) on logical CPU `cpu`: the EXIT line, PSCI SYSTEM_OFF, halt. */
export function* unitTestExit(sys: BootedGuest, code: number, cpu = 0): GuestCode<never> {
  yield* putString(sys.console, `\nEXIT: STATUS=${(code << 1) | 1}\n`);
  const rc = yield* psciSystemOff(sys.psci);
  yield* putString(sys.console, `CPU${cpu} unable to do system off (error = ${rc})\n`);
  return yield* halt();
}
