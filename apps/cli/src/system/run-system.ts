/**
 * `irqlab-system-aarch64` / `irqlab-system-riscv64`: QEMU's
 * qemu-system-aarch64 / qemu-system-riscv64 command line, run on irqlab's
 * virt machines. {@link runSystem} is the whole command as a library
 * function (the bins and `irqlab system-aarch64 …` bind it to the process),
 * in the order QEMU's qemu_init() and main loop go:
 *
 *  1. parse (@irqlab/machine parseSystemCommandLine): a refused command line
 *     prints QEMU's messages and exits 1; -h, -version and the help lists
 *     print and exit with the parser's status; warnings go to stderr;
 *  2. `--trace FILE` is opened for writing (a path that cannot be written
 *     ends the command before anything runs);
 *  3. `-kernel` is loaded (guest-kernel.ts: "could not load kernel 'X'");
 *  4. the machine is created (Machine.create: QEMU's init phases);
 *  5. `-M virt,dumpdtb=FILE` writes the device tree and exits 0, silently,
 *     as QEMU's handle_machine_dumpdtb() does after the machine-init-done
 *     notifiers (hw/core/machine.c);
 *  6. `-S` without `-qmp` ends the command: nothing could start the machine;
 *  7. the machine runs until it stops or the `--until` limit; the console
 *     goes to stdout when the serial port is on stdio (-nographic,
 *     -serial stdio / mon:stdio), and nowhere otherwise. With `-qmp`, the
 *     monitors' chardevs are opened right after the parse (a server with
 *     wait=on waits there for its client), the monitors are attached to the
 *     machine, and it runs in the live loop (qmp-run.ts, live-run.ts) until
 *     it shuts down, QMP `quit`, or `--until`; the chardevs are closed when
 *     the command ends, however it ends;
 *  8. how the run ended decides the exit status (see README.md), then
 *     `-summary` prints its summary and `--trace` writes the trace.
 */

import { resolve } from "node:path";
import { writeFileSync } from "node:fs";
import type { GuestImage } from "@irqlab/kvm";
import { guestImages } from "@irqlab/guest";
import {
  Machine,
  QemuOptionError,
  formatDiagnostics,
  parseSystemCommandLine,
  type MachineArch,
  type MachineConfig,
  type MachineRunEnd,
  type QemuDiagnostic,
} from "@irqlab/machine";
import { IrqlabError, formatNs } from "@irqlab/sim";
import { KernelLoadError, loadKernel, type GuestImageRegistry } from "./guest-kernel.js";
import { strerror } from "./host-errors.js";
import { formatSummary, summaryExtension, type ReportFlags } from "./run-report.js";
import { devicePlugs, knownDevices } from "./system-devices.js";
import { checkWritable, writeTrace } from "./trace-file.js";
import { qmpExtension, type QmpOptions } from "./qmp-chardev.js";
import type { QmpRun } from "./qmp-run.js";
import type { QmpInput } from "./qmp-server.js";
import { DEFAULT_SLICE_NS, liveRunExtensions, type LiveRunFlags } from "./live-run.js";

/** Where the command writes, and what tests may replace. */
export interface SystemIo {
  /** stdout: help texts and the guest's console. */
  out(text: string): void;
  /** stderr: QEMU's messages and irqlab's. */
  err(text: string): void;
  /** The program name in messages (QEMU prints argv[0]'s basename); default "irqlab-system-ARCH". */
  readonly prog?: string;
  /** The directory relative paths (-kernel, dumpdtb=, --trace) are resolved against; default process.cwd(). */
  readonly cwd?: string;
  /** The images of `-kernel irqlab:NAME`; default @irqlab/guest's guestImages. */
  readonly guestImages?: GuestImageRegistry;
  /** The input of `-qmp stdio`; default process.stdin (the monitor's output goes to `out`). */
  readonly stdin?: QmpInput;
  /**
   * Told how far the command got: the `irqlab` subcommand it runs
   * ("scenario-run"), then "machine" once it has built a machine. The bins
   * key their code cache on it (src/launch): a run that builds a machine
   * compiles much that help or an error message never does.
   */
  readonly reached?: (stage: string) => void;
}

/** The program name QEMU would print for this architecture's command. */
export function systemProgName(arch: MachineArch): string {
  return `irqlab-system-${arch}`;
}

/** Whether the first serial port (virt's UART, and the SBI console, which QEMU writes to serial_hd(0)) goes to stdout. */
export function consoleOnStdio(config: MachineConfig): boolean {
  const first = config.serial === undefined ? "stdio" : config.serial[0];
  return first === "stdio" || first === "mon:stdio";
}

/**
 * Runs one `irqlab-system-ARCH` command line (`argv` without the program
 * name). Resolves to the exit status QEMU would give, or irqlab's where
 * QEMU would wait (README.md lists them). Throws only for irqlab's own bugs.
 */
export async function runSystem(arch: MachineArch, argv: readonly string[], io: SystemIo): Promise<number> {
  const held: { qmp: QmpRun | undefined } = { qmp: undefined };
  try {
    return await runCommand(arch, argv, io, held);
  } finally {
    await held.qmp?.close();
  }
}

/** {@link runSystem}'s steps; `held.qmp` is the run's monitors, closed by the caller. */
async function runCommand(arch: MachineArch, argv: readonly string[], io: SystemIo, held: { qmp: QmpRun | undefined }): Promise<number> {
  const prog = io.prog ?? systemProgName(arch);
  const cwd = io.cwd ?? process.cwd();
  const report = (d: QemuDiagnostic) => {
    io.err(formatDiagnostics(prog, [d]));
  };
  const error = (text: string, hint?: string): 1 => {
    report({ kind: "error", text, ...(hint === undefined ? {} : { hint }) });
    return 1;
  };
  const note = (text: string) => {
    io.err(`${prog}: ${text}\n`);
  };

  // 1. The command line.
  const flags: ReportFlags = { summary: false };
  const qmp: QmpOptions = { chardevs: [] };
  const live: LiveRunFlags = { pace: undefined, sliceNs: DEFAULT_SLICE_NS };
  let parsed;
  try {
    const extensions = [summaryExtension(flags), qmpExtension(qmp), ...liveRunExtensions(live)];
    parsed = parseSystemCommandLine(arch, argv, { devices: knownDevices(), extensions });
  } catch (e) {
    if (e instanceof QemuOptionError) {
      io.err(e.format(prog));
      return 1;
    }
    throw e;
  }
  io.err(formatDiagnostics(prog, parsed.diagnostics));
  if (parsed.kind === "list") {
    io.out(parsed.text);
    return parsed.exitCode;
  }
  if (parsed.kind !== "run") {
    // -h / -version.
    io.out(parsed.text);
    return 0;
  }
  const { config, run } = parsed;
  const dumpdtb = config.machine.dumpdtb;

  // The monitors' chardevs (qemu_create_early_backends): before anything else is loaded or built.
  if (qmp.chardevs.length > 0) {
    // Loaded here, not with the command: only a run with monitors needs sockets (node:net).
    const { QmpRun } = await import("./qmp-run.js");
    held.qmp = new QmpRun(qmp.chardevs, {
      stdin: () => io.stdin ?? process.stdin,
      stdout: (text) => { io.out(text); },
      report: (location, text, hint, info) => {
        if (info === true) io.err(`${prog}: ${location === undefined ? "" : `${location}: `}info: ${text}\n`);
        else report({ kind: "error", text, ...(location === undefined ? {} : { location }), ...(hint === undefined ? {} : { hint }) });
      },
    });
    if (!(await held.qmp.open())) return 1;
  }

  // 2. --trace FILE must be writable before anything runs (nothing is traced when dumpdtb= exits first).
  const traceFile = run.trace === undefined || dumpdtb !== undefined ? undefined : resolve(cwd, run.trace);
  if (traceFile !== undefined) {
    const why = checkWritable(traceFile);
    if (why !== undefined) return error(`cannot write the trace file '${run.trace!}': ${why}`);
  }

  // 3. -kernel.
  let kernel: GuestImage | undefined;
  if (config.kernel !== undefined) {
    try {
      kernel = await loadKernel(config.kernel, arch, io.guestImages ?? guestImages, cwd);
    } catch (e) {
      if (e instanceof KernelLoadError) return error(e.message, e.hint);
      throw e;
    }
  }

  // 4. The machine (dumpdtb= exits before vm_start, so its vCPUs are never started).
  const toStdout = consoleOnStdio(config);
  let machine: Machine;
  try {
    machine = Machine.create({
      config: dumpdtb === undefined ? config : { ...config, startPaused: true },
      ...(kernel === undefined ? {} : { kernel }),
      trace: traceFile !== undefined,
      drivers: devicePlugs(),
      ...(toStdout ? { console: (text: string) => { io.out(text); } } : {}),
    });
  } catch (e) {
    // A configuration the machine refuses (ConfigError) or an ioctl KVM fails (KvmError): QEMU reports and exits 1.
    if (IrqlabError.isInstance(e)) return error(e.message);
    throw e;
  }
  io.reached?.("machine");

  // 5. -M virt,dumpdtb=FILE: qmp_dumpdtb(ms->dumpdtb, &error_fatal); exit(0).
  if (dumpdtb !== undefined) {
    try {
      writeFileSync(resolve(cwd, dumpdtb), machine.fdt);
    } catch (e) {
      return error(`Error saving FDT to file ${dumpdtb}: Failed to create file “${dumpdtb}”: ${strerror(e)}`);
    }
    return 0;
  }

  // 6. -S: QEMU waits for a monitor's "cont"; without -qmp nothing could send one.
  if (config.startPaused && held.qmp === undefined) {
    return error(
      "irqlab: -S leaves the machine paused before it starts, and nothing could start it",
      "irqlab's monitor is QMP: add -qmp (e.g. -qmp unix:/tmp/irqlab.sock,server=on,wait=off) to start it with 'cont', or drop -S.\n",
    );
  }

  // 7. Run.
  if (kernel === undefined) note("irqlab: no -kernel: the vCPUs have no guest to run and wait idle (try -kernel irqlab:hello)");
  let end: MachineRunEnd;
  try {
    if (held.qmp === undefined) {
      end = machine.run(run.untilNs ?? Number.POSITIVE_INFINITY);
    } else {
      held.qmp.attach(machine);
      end = await held.qmp.run(machine, live, run.untilNs, (text) => { io.err(text); });
    }
  } finally {
    machine.flushConsole();
  }

  // 8. How it ended.
  let status: number;
  switch (end) {
    case "shutdown":
      // A guest power-off: QEMU exits 0 without a word.
      status = 0;
      break;
    case "until":
      note(`irqlab: virtual time limit reached: the run stopped at ${formatNs(machine.queue.now)} of virtual time (-until)`);
      status = 0;
      break;
    case "idle":
      note(`irqlab: the guest is idle with no pending event at ${formatNs(machine.queue.now)}: every vCPU waits and nothing is left to wake one`);
      status = 0;
      break;
    case "internal-error":
      // kvm_cpu_exec: the vCPU state dump (and "error: kvm run failed ..." when KVM_RUN itself failed), then RUN_STATE_INTERNAL_ERROR.
      // (With -qmp the live loop printed each entry when it happened.)
      for (const entry of machine.errors.slice(held.qmp?.errorsPrinted ?? 0)) io.err(entry.endsWith("\n") ? entry : `${entry}\n`);
      note("irqlab: the VM stopped with an internal error; QEMU would stay paused in that state, irqlab exits");
      status = 1;
      break;
    case "guest-panicked":
      note("irqlab: the guest panicked (GUEST_PANICKED, action pause); QEMU would stay paused in that state, irqlab exits");
      status = 1;
      break;
    case "paused":
      note(`irqlab: the VM is paused and nothing can resume it (${held.qmp === undefined ? "no -qmp monitor" : "no monitor can be reached any more"})`);
      status = 1;
      break;
  }

  if (flags.summary) io.err(formatSummary(machine, end, toStdout));
  if (traceFile !== undefined) {
    const why = writeTrace(traceFile, machine, { prog, argv, arch, seed: run.seed, end });
    if (why !== undefined) return error(`cannot write the trace file '${run.trace!}': ${why}`);
  }
  return status;
}
