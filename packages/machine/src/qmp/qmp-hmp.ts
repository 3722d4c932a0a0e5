/**
 * human-monitor-command (qapi/misc.json; monitor/qmp-cmds.c
 * qmp_human_monitor_command): an HMP command line run on a throw-away HMP
 * monitor whose output is returned as a string. monitor_puts() writes every
 * "\n" as "\r\n", so the returned text has CRLF line ends.
 *
 * The `info` commands irqlab models, in QEMU's formats:
 * - info cpus (hmp_info_cpus): "* CPU #0: thread_id=N" — `*` marks the
 *   monitor's current CPU, the first one unless `cpu-index` says otherwise;
 * - info status (hmp_info_status): "VM status: running|paused[ (state)]";
 * - info version (hmp_info_version): "MAJOR.MINOR.MICROpackage";
 * - info kvm (hmp_info_kvm): "kvm support: enabled";
 * - info qtree (qdev-monitor.c qbus_print/qdev_print): the modelled devices
 *   only (the PCIe host with its root bus and functions, the interrupt
 *   controller and the UART); children newest first, as a bus lists them;
 *   device properties are not printed;
 * - info irq (hmp_info_irq): "IRQ statistics for NAME:" and "%2d: %d" for
 *   every source with a non-zero count. QEMU asks interrupt controllers it
 *   emulates; with the irqchip in KVM it has no such counts, so irqlab
 *   reports what its model counts: injections per irqfd GSI.
 * Anything else is answered as monitor_parse_command() answers it:
 * "unknown command: 'NAME'" (for `info X` the name is "info X").
 */

import { PCI_CLASS_DEVICE, PCI_DEVICE_ID, PCI_SUBSYSTEM_ID, PCI_SUBSYSTEM_VENDOR_ID, PCI_VENDOR_ID } from "../devices/pci/pci-regs.js";
import { genericError } from "./qmp-args.js";
import { fakeThreadId } from "./qmp-commands-cpu.js";
import type { QmpCommand } from "./qmp-dispatch.js";
import { qemuVersionTriple, type QmpCommandEnv } from "./qmp-env.js";

/** The `info` subcommands irqlab implements, with hmp-commands-info.hx's help text. */
export const HMP_INFO_COMMANDS: Readonly<Record<string, string>> = {
  cpus: "show infos for each CPU",
  kvm: "show KVM information",
  irq: "show the interrupts statistics (if available)",
  qtree: "show device tree",
  status: "show the current VM status (running|paused)",
  version: "show the version of QEMU",
};

/** pci_class_descriptions for the classes irqlab's functions use. */
const PCI_CLASS_NAMES: Readonly<Record<number, string>> = { 0x0100: "SCSI controller", 0x0600: "Host bridge" };

const hex = (n: number, w: number): string => n.toString(16).padStart(w, "0");

function word(cfg: Uint8Array, off: number): number {
  return cfg[off]! | (cfg[off + 1]! << 8);
}

function infoQtree(env: QmpCommandEnv): string {
  const m = env.machine;
  const out: string[] = [];
  const line = (indent: number, s: string): void => {
    out.push(`${" ".repeat(indent)}${s}`);
  };
  line(0, "bus: main-system-bus");
  line(2, "type System");
  // Newest first (bus_add_child inserts at the head); the UART and irqchip come before the PCIe host in machvirt_init / virt_machine_init.
  line(2, 'dev: gpex-pcihost, id ""');
  line(4, "bus: pcie.0");
  line(6, "type PCIE");
  for (const d of [...m.pci.devices].reverse()) {
    const cfg = d.fn.config;
    const cls = word(cfg, PCI_CLASS_DEVICE);
    line(6, `dev: ${d.driver}, id "${d.id ?? ""}"`);
    line(8, `addr = ${hex(d.fn.devfn >> 3, 2)}.${d.fn.devfn & 7}`);
    line(8, `class ${PCI_CLASS_NAMES[cls] ?? `Class ${hex(cls, 4)}`}, addr 00:${hex(d.fn.devfn >> 3, 2)}.${d.fn.devfn & 7}, pci id ${hex(word(cfg, PCI_VENDOR_ID), 4)}:${hex(word(cfg, PCI_DEVICE_ID), 4)} (sub ${hex(word(cfg, PCI_SUBSYSTEM_VENDOR_ID), 4)}:${hex(word(cfg, PCI_SUBSYSTEM_ID), 4)})`);
  }
  // gpex-root: the host bridge function at 00:00.0 (hw/pci-host/gpex.c, PCI_DEVICE_ID_REDHAT_PCIE_HOST).
  line(6, 'dev: gpex-root, id ""');
  line(8, "addr = 00.0");
  line(8, "class Host bridge, addr 00:00.0, pci id 1b36:0008 (sub 1af4:1100)");
  if (m.config.arch === "aarch64") {
    line(2, `dev: pl011, id ""`);
    if ("its" in m.config.machine && m.config.machine.its) line(2, 'dev: arm-its-kvm, id ""');
    line(2, 'dev: kvm-arm-gicv3, id ""');
  } else {
    line(2, 'dev: serial-mm, id ""');
  }
  return out.map((l) => `${l}\r\n`).join("");
}

function infoIrq(env: QmpCommandEnv): string {
  const fds = env.machine.vm.irqfds.irqfds;
  let s = "IRQ statistics for irqfd:\r\n";
  const byGsi = new Map<number, number>();
  for (const f of fds) byGsi.set(f.gsi, (byGsi.get(f.gsi) ?? 0) + f.injections);
  for (const [gsi, n] of [...byGsi].sort((a, b) => a[0] - b[0])) if (n > 0) s += `${String(gsi).padStart(2)}: ${n}\r\n`;
  return s;
}

/**
 * get_command_name(): a command name runs up to white space or '/'. The
 * "unknown command" text quotes the line from its start up to the end of
 * the name that was not found (monitor_parse_command's cmdp_start).
 */
function commandName(line: string, from: number): { name: string; end: number } | undefined {
  const m = /^\s*([^\s/]+)/.exec(line.slice(from));
  return m === null ? undefined : { name: m[1]!, end: from + m[0].length };
}

function run(env: QmpCommandEnv, line: string, cpuIndex: number | undefined): string {
  const m = env.machine;
  const unknown = (end: number): string => `unknown command: '${line.slice(0, end)}'\r\n`;
  const cmd = commandName(line, 0);
  if (cmd === undefined) return "";
  if (cmd.name !== "info" && cmd.name !== "i") return unknown(cmd.end);
  const subCmd = commandName(line, cmd.end);
  // `info` alone runs hmp_info_help: help_cmd_dump_one's "info NAME PARAMS -- HELP" lines.
  if (subCmd === undefined) return Object.entries(HMP_INFO_COMMANDS).map(([k, v]) => `info ${k}  -- ${v}\r\n`).join("");
  const sub = subCmd.name;
  switch (sub) {
    case "cpus": {
      const cpus = m.cpus;
      const current = cpuIndex ?? cpus[0]?.index;
      return cpus.map((c) => `${c.index === current ? "*" : " "} CPU #${c.index}: thread_id=${fakeThreadId(m.vm.index, c.index)}\r\n`).join("");
    }
    case "status": {
      const s = m.runState;
      return `VM status: ${s === "running" ? "running" : "paused"}${s !== "running" && s !== "paused" ? ` (${s})` : ""}\r\n`;
    }
    case "version": {
      const v = qemuVersionTriple();
      return `${v.major}.${v.minor}.${v.micro}${env.version.package}\r\n`;
    }
    case "qtree":
      return infoQtree(env);
    case "irq":
      return infoIrq(env);
    case "kvm":
      return "kvm support: enabled\r\n";
    default:
      return unknown(subCmd.end);
  }
}

/** human-monitor-command. */
export function hmpCommand(env: QmpCommandEnv): QmpCommand {
  return {
    name: "human-monitor-command",
    args: [
      { name: "command-line", type: "str" },
      { name: "cpu-index", type: "int", optional: true },
    ],
    run(_ctx, args) {
      let cpu: number | undefined;
      if (args["cpu-index"] !== undefined) {
        cpu = Number(args["cpu-index"]);
        // monitor_set_cpu() fails for a CPU that does not exist.
        if (!env.machine.cpus.some((c) => c.index === cpu)) throw genericError("Parameter 'cpu-index' expects a CPU number");
      }
      return run(env, args["command-line"] as string, cpu);
    },
  };
}
