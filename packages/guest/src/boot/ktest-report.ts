/**
 * Test reporting as kvm-unit-tests prints it (lib/report.c), so that a
 * workload's output reads like the kvm-unit-tests test it follows, on
 * either architecture:
 *
 * - a prefix stack: each pushed prefix is followed by ": " (report_prefix_push
 *   / _pop / _popn);
 * - report(pass, msg) prints "PASS: <prefixes><msg>" or "FAIL: …";
 *   report_kfail(kfail, pass, …) prints KFAIL for a known failure;
 *   report_xfail prints XPASS / XFAIL; report_skip prints SKIP; report_info
 *   prints "INFO: …" and counts nothing;
 * - report_summary(): "SUMMARY: N tests" followed by ", M unexpected
 *   failures", ", K known failures", ", X expected failures", ", S skipped"
 *   for the non-zero counts; its status is 1 with unexpected failures,
 *   77 >> 1 when everything was skipped, else 0;
 * - exit(code) (lib/arm/io.c, lib/riscv/io.c): "\nEXIT: STATUS=<code << 1 | 1>".
 *
 * The counters are kernel data (the test's globals); output goes to the
 * console one line at a time.
 */

import { putString, type Console } from "../console/console.js";
import type { GuestCode } from "../guest-image.js";

/** lib/abort.c ABORT_EXIT_STATUS: the code abort() exits with. */
export const ABORT_EXIT_STATUS = 63;
/** report_summary()'s value when every test was skipped (77 >> 1). */
export const ALL_SKIPPED_STATUS = 77 >> 1;

/** What exit(code) prints before it powers off (lib/arm/io.c, lib/riscv/io.c): (code << 1) | 1, chr-testdev's format, which the runner scripts parse. */
export function exitStatusText(code: number): string {
  return `\nEXIT: STATUS=${(code << 1) | 1}\n`;
}

/** The kvm-unit-tests reporter. */
export class KtestReport {
  readonly #console: Console;
  readonly #prefixes: string[] = [];
  tests = 0;
  failures = 0;
  xfailures = 0;
  kfailures = 0;
  skipped = 0;

  constructor(console: Console) {
    this.#console = console;
  }

  /** The current prefix string ("sbi: ipi: "). */
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

  /** report_prefix_popn(n). */
  popn(n: number): void {
    for (let i = 0; i < n; i++) this.#prefixes.pop();
  }

  /** report(pass, msg): returns pass. */
  *report(pass: boolean, msg: string): GuestCode<boolean> {
    return yield* this.#va(msg, pass, false, false, false);
  }

  /** report_pass(msg). */
  *pass(msg: string): GuestCode {
    yield* this.#va(msg, true, false, false, false);
  }

  /** report_fail(msg). */
  *fail(msg: string): GuestCode {
    yield* this.#va(msg, false, false, false, false);
  }

  /** report_kfail(kfail, pass, msg): a failure is known (KFAIL) when `kfail`. */
  *kfail(kfail: boolean, pass: boolean, msg: string): GuestCode<boolean> {
    return yield* this.#va(msg, pass, false, kfail, false);
  }

  /** report_xfail(xfail, pass, msg). */
  *xfail(xfail: boolean, pass: boolean, msg: string): GuestCode<boolean> {
    return yield* this.#va(msg, pass, xfail, false, false);
  }

  /** report_skip(msg). */
  *skip(msg: string): GuestCode {
    yield* this.#va(msg, false, false, false, true);
  }

  /** report_info(msg). */
  *info(msg: string): GuestCode {
    yield* this.write(`INFO: ${this.prefix}${msg}\n`);
  }

  /** The SUMMARY line report_summary() prints. */
  summaryLine(): string {
    let s = `SUMMARY: ${this.tests} tests`;
    if (this.failures) s += `, ${this.failures} unexpected failures`;
    if (this.kfailures) s += `, ${this.kfailures} known failures`;
    if (this.xfailures) s += `, ${this.xfailures} expected failures`;
    if (this.skipped) s += `, ${this.skipped} skipped`;
    return s;
  }

  /** report_summary(): prints the summary, returns the status main() returns. */
  *summary(): GuestCode<number> {
    yield* this.write(`${this.summaryLine()}\n`);
    if (this.tests === this.skipped) return ALL_SKIPPED_STATUS;
    return this.failures > 0 ? 1 : 0;
  }

  /** The first half of exit(code): "\nEXIT: STATUS=…\n". */
  *exitLine(code: number): GuestCode {
    yield* this.write(exitStatusText(code));
  }

  /** How the reporter's text reaches the console (puts()): as {@link putString} unless a subclass knows better. */
  protected *write(text: string): GuestCode {
    yield* putString(this.#console, text);
  }

  *#va(msg: string, pass: boolean, xfail: boolean, kfail: boolean, skip: boolean): GuestCode<boolean> {
    const what = skip ? "SKIP" : xfail ? (pass ? "XPASS" : "XFAIL") : kfail ? (pass ? "PASS" : "KFAIL") : pass ? "PASS" : "FAIL";
    this.tests++;
    if (skip) this.skipped++;
    else if (xfail && !pass) this.xfailures++;
    else if (kfail && !pass) this.kfailures++;
    else if (xfail || !pass) this.failures++;
    yield* this.write(`${what}: ${this.prefix}${msg}\n`);
    return pass || xfail;
  }
}
