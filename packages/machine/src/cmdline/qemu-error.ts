/**
 * How QEMU reports command-line problems, and the error the parser throws.
 *
 * QEMU prints every message as `PROG: [LOCATION: ][warning: ]TEXT`, then the
 * hint lines of the error, if any (util/error-report.c vreport and
 * print_loc; util/error.c error_report_err). LOCATION is the option being
 * parsed, as vl.c lookup_opt sets it with loc_set_cmdline: the option alone
 * ("-foo") or the option and its argument ("-smp 4,foo=1"). Messages
 * reported after the option loop carry no location, except those about a
 * QemuOpts group (-accel, -device, -m), which qemu_opts_foreach reports at
 * the location the group was parsed from.
 *
 * Some messages are not fatal (warnings; "invalid accelerator tcg" before
 * QEMU falls back to the next accelerator); they are collected as
 * {@link QemuDiagnostic}s in command-line order and carried by the result
 * or by the {@link QemuOptionError} that ends the parse.
 */

import { IrqlabError } from "@irqlab/sim";

/** One message as QEMU would print it on stderr. */
export interface QemuDiagnostic {
  /** "error" is printed plain (error_report), "warning" with "warning: " (warn_report). */
  readonly kind: "error" | "warning";
  /** The command-line location ("-smp 4,foo=1"), if QEMU prints one. */
  readonly location?: string;
  /** The message text, as QEMU's format string produces it. */
  readonly text: string;
  /** Hint lines printed after the message, each ending in "\n" (error_append_hint). */
  readonly hint?: string;
}

/** One diagnostic as QEMU prints it after "PROG: ": location, kind, text and hint, no final newline. */
export function diagnosticText(d: QemuDiagnostic): string {
  const loc = d.location === undefined ? "" : `${d.location}: `;
  const kind = d.kind === "warning" ? "warning: " : "";
  const hint = d.hint === undefined ? "" : `\n${d.hint.replace(/\n$/, "")}`;
  return `${loc}${kind}${d.text}${hint}`;
}

/** Diagnostics as QEMU prints them on stderr, each line of the message prefixed "PROG: ". */
export function formatDiagnostics(prog: string, diagnostics: readonly QemuDiagnostic[]): string {
  return diagnostics.map((d) => `${prog}: ${diagnosticText(d)}\n`).join("");
}

/**
 * A command line QEMU would refuse. `message` is what QEMU prints after
 * "qemu-system-aarch64: " for the error it exits on (location, text, hint
 * lines); {@link QemuOptionError.format} gives the whole stderr output,
 * including warnings and non-fatal errors printed before it. The CLI prints
 * that with its own program name and exits 1, as QEMU does.
 */
export class QemuOptionError extends IrqlabError {
  /** Everything QEMU prints, in order; the last entry is the error it exits on. */
  readonly diagnostics: readonly QemuDiagnostic[];

  constructor(diagnostics: readonly QemuDiagnostic[]) {
    const last = diagnostics[diagnostics.length - 1];
    super("ERR_QEMU_OPTION", last === undefined ? "" : diagnosticText(last));
    this.diagnostics = diagnostics;
  }

  /** The error QEMU exits on (the last diagnostic). */
  get fatal(): QemuDiagnostic {
    return this.diagnostics[this.diagnostics.length - 1]!;
  }

  /** The stderr text QEMU prints, with `prog` (e.g. "irqlab-system-aarch64") as the program name. */
  format(prog: string): string {
    return formatDiagnostics(prog, this.diagnostics);
  }
}

/**
 * An Error* as QEMU's helpers set it (error_setg + error_append_hint), before
 * the caller reports it at a location. Internal to the parser: the driver
 * turns it into a diagnostic.
 */
export class QapiError extends Error {
  readonly hint: string | undefined;

  constructor(text: string, hint?: string) {
    super(text);
    this.name = "QapiError";
    this.hint = hint;
  }
}

/**
 * The reporting state of one parse: the current location (vl.c's cur_loc)
 * and the diagnostics printed so far.
 */
export class QemuReporter {
  readonly diagnostics: QemuDiagnostic[] = [];
  /** The current location, like loc_set_cmdline / loc_set_none. */
  location: string | undefined;

  /** warn_report(): a warning at the current location. */
  warn(text: string, hint?: string): void {
    this.#push("warning", text, hint);
  }

  /** error_report() that does not exit. */
  report(text: string, hint?: string): void {
    this.#push("error", text, hint);
  }

  /** error_report() + exit(1): throws the {@link QemuOptionError}. */
  fatal(text: string, hint?: string): never {
    this.#push("error", text, hint);
    throw new QemuOptionError([...this.diagnostics]);
  }

  /** exit(1) after messages already reported: throws with the diagnostics so far. */
  exit(): never {
    throw new QemuOptionError([...this.diagnostics]);
  }

  /** Reports a {@link QapiError} as fatal (error_fatal); rethrows anything else. */
  fatalFrom(e: unknown): never {
    if (e instanceof QapiError) this.fatal(e.message, e.hint);
    throw e;
  }

  /** Runs `fn` at `location` (loc_push_restore/loc_pop), turning a QapiError into a fatal report. */
  at<T>(location: string | undefined, fn: () => T): T {
    const saved = this.location;
    this.location = location;
    try {
      return fn();
    } catch (e) {
      this.fatalFrom(e);
    } finally {
      this.location = saved;
    }
  }

  #push(kind: QemuDiagnostic["kind"], text: string, hint: string | undefined): void {
    this.diagnostics.push({
      kind,
      ...(this.location === undefined ? {} : { location: this.location }),
      text,
      ...(hint === undefined ? {} : { hint }),
    });
  }
}
