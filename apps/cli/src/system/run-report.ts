/**
 * What the commands say about a run besides QEMU's own output: the line for
 * each way a run can end that QEMU has no equivalent for, and the summary
 * `-summary` asks for (an irqlab option, added to the parser through its
 * extension point, ParseOptions.extensions).
 */

import type { CommandLineExtension, Machine, MachineRunEnd } from "@irqlab/machine";
import { GUEST_ERROR, formatNs } from "@irqlab/sim";

/** The irqlab options the commands add to the parser's. */
export interface ReportFlags {
  /** `-summary` / `--summary`. */
  summary: boolean;
}

/** `-summary`: print a summary of the run on stderr when it ends. */
export function summaryExtension(flags: ReportFlags): CommandLineExtension {
  return {
    name: "summary",
    hasArg: false,
    help: "-summary        (irqlab) print a summary of the run on stderr when it ends\n",
    parse: () => {
      flags.summary = true;
    },
  };
}

const EXIT_PREFIX = "kvm.exit.";
const GUEST_ERROR_PREFIX = `${GUEST_ERROR}:`;

/** KVM_RUN exits by reason (the tracer's `kvm.exit.*` counters), most frequent first. */
export function exitCounts(machine: Machine): [string, number][] {
  const counters = machine.tracer.counters.toJSON();
  return Object.entries(counters)
    .filter(([name, n]) => name.startsWith(EXIT_PREFIX) && n > 0)
    .map(([name, n]): [string, number] => [name.slice(EXIT_PREFIX.length), n])
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
}

const END_TEXT: Readonly<Record<MachineRunEnd, string>> = {
  shutdown: "the guest powered off",
  until: "the virtual time limit was reached",
  idle: "the guest is idle with no pending event",
  "internal-error": "a vCPU stopped the VM (internal error)",
  "guest-panicked": "the guest panicked",
  paused: "the VM is paused",
};

/** The `-summary` text: how the run ended, virtual time, exits by reason, guest errors, the console. */
export function formatSummary(machine: Machine, end: MachineRunEnd, consoleOnStdout: boolean): string {
  const c = machine.config;
  const exits = exitCounts(machine);
  const totalExits = exits.reduce((s, [, n]) => s + n, 0);
  const counters = machine.tracer.counters.toJSON();
  const errorSources = Object.entries(counters).filter(([name, n]) => name.startsWith(GUEST_ERROR_PREFIX) && n > 0);
  const guestErrors = machine.tracer.guestErrors;
  const consoleBytes = new TextEncoder().encode(machine.consoleText).length;
  const row = (label: string, value: string) => `  ${label.padEnd(14)} ${value}\n`;
  const now = machine.queue.now;
  return (
    `irqlab summary: ${machine.name}, ${c.arch} virt, ${machine.cpus.length} of ${c.smp.maxcpus} vCPUs, host of ${machine.host.config.harts} CPUs\n` +
    row("ended", `${END_TEXT[end]} (run state ${machine.runState})`) +
    row("virtual time", `${formatNs(now)} (${now} ns)`) +
    row("KVM_RUN exits", totalExits === 0 ? "0" : `${totalExits}: ${exits.map(([r, n]) => `${r} ${n}`).join(", ")}`) +
    row("guest errors", guestErrors === 0 ? "0" : `${guestErrors}: ${errorSources.map(([s, n]) => `${s.slice(GUEST_ERROR_PREFIX.length)} ${n}`).join(", ")}`) +
    row("console", `${consoleBytes} bytes, ${consoleOnStdout ? "on stdout" : "discarded (no -nographic or -serial stdio)"}`)
  );
}
