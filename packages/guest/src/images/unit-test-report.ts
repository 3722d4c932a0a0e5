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
import { putStringKvmUnitTests } from "../console/console.js";
import type { GuestCode } from "../guest-image.js";
import { psciSystemOff } from "../power/psci.js";
import { ABORT_EXIT_STATUS, KtestReport, exitStatusText } from "../boot/ktest-report.js";

export { ABORT_EXIT_STATUS, ALL_SKIPPED_STATUS } from "../boot/ktest-report.js";

/**
 * The reporter of an arm test program: lib/report.c's output and counters
 * ({@link KtestReport}) on the booted guest's console, plus printf() and
 * report_abort(), which ends the test through lib/arm/io.c exit().
 */
export class UnitTestReport extends KtestReport {
  readonly sys: BootedGuest;

  constructor(sys: BootedGuest) {
    super(sys.console);
    this.sys = sys;
  }

  /** printf() of `text` as is. */
  *print(text: string): GuestCode {
    yield* this.write(text);
  }

  /** lib/arm/io.c puts(). */
  protected override *write(text: string): GuestCode {
    yield* putStringKvmUnitTests(this.sys.console, text);
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
  yield* putStringKvmUnitTests(sys.console, exitStatusText(code));
  const rc = yield* psciSystemOff(sys.psci);
  yield* putStringKvmUnitTests(sys.console, `CPU${cpu} unable to do system off (error = ${rc})\n`);
  return yield* halt();
}
