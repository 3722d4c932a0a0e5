/**
 * The option names QEMU 11.1.0's system emulators know (qemu-options.hx DEF
 * lines, plus vl.c's own "h"), whether each takes an argument (HAS_ARG),
 * and the targets it exists for (arch_mask). vl.c lookup_opt() resolves
 * every argument against this table in a first pass over the whole command
 * line, so "-foo: invalid option" and "-smp: requires an argument" are
 * reported before anything else; "--opt" is "-opt".
 *
 * irqlab implements some of these, reuses -trace and -seed for its own
 * meaning and adds -until and -host. A {@link CommandLineExtension} may
 * take one of the others (a monitor: -qmp, -qmp-pretty, -monitor, -mon,
 * -chardev): it names the option, says whether it takes an argument, gives
 * its -help lines, and parses each occurrence during vl.c's option loop, in
 * command-line order, keeping what it parsed itself. The remaining QEMU
 * options are what a build without them says: "Option not supported in
 * this build" (vl.c's default case).
 */

import { ConfigError } from "@irqlab/sim";
import type { MachineArch } from "../config/machine-config.js";

/** One command-line option. */
export interface OptionDef {
  readonly name: string;
  readonly hasArg: boolean;
  /** The targets QEMU offers it on (arch_mask); elsewhere "Option not supported for this target". */
  readonly archs: readonly MachineArch[];
}

/**
 * qemu-options.hx of QEMU 11.1.0: "name" takes no argument, "name=" takes
 * one; "!a" / "!r": not for QEMU_ARCH_ARM / QEMU_ARCH_RISCV.
 */
const QEMU_OPTIONS_11_1 = [
  "h", "help", "version", "machine=", "M=", "cpu=", "accel=", "smp=", "numa=", "add-fd=", "set=", "global=",
  "boot=", "m=", "mem-path=", "mem-prealloc", "k=", "audio=", "audiodev=", "device=", "name=", "uuid=",
  "fda=", "fdb=", "hda=", "hdb=", "hdc=", "hdd=", "cdrom=", "blockdev=", "drive=", "mtdblock=", "sd=",
  "snapshot", "fsdev=", "virtfs=", "iscsi=", "usb", "usbdevice=", "display=", "nographic", "spice=", "vga=",
  "full-screen", "g=!a!r", "vnc=", "win2k-hack!a!r", "no-fd-bootchk!a!r", "acpitable=!a!r", "smbios=",
  "netdev=", "nic=", "net=", "chardev=", "tpmdev=", "bios=", "pflash=", "kernel=", "shim=", "append=",
  "initrd=", "dtb=", "compat=", "fw_cfg=", "serial=", "parallel=", "monitor=", "qmp=", "qmp-pretty=", "mon=",
  "debugcon=", "pidfile=", "preconfig", "S", "overcommit=", "gdb=", "s", "d=", "D=", "dfilter=", "seed=",
  "L=", "enable-kvm", "xen-domid=!r", "xen-attach!r", "xen-domid-restrict!r", "no-reboot", "no-shutdown",
  "action=", "loadvm=", "daemonize", "option-rom=", "rtc=", "icount=", "watchdog-action=", "echr=",
  "incoming=", "only-migratable", "nodefaults", "prom-env=!a!r", "semihosting", "semihosting-config=",
  "sandbox=", "readconfig=", "no-user-config", "trace=", "plugin=", "qtest=", "qtest-log=", "run-with=",
  "msg=", "dump-vmstate=", "enable-sync-profile", "perfmap", "jitdump", "object=",
] as const;

/** Options irqlab adds to QEMU's. */
const IRQLAB_OPTIONS = ["until=", "host="] as const;

function parse(spec: string): OptionDef {
  const m = /^([^=!]+)(=?)((?:![ar])*)$/.exec(spec)!;
  const archs: MachineArch[] = [];
  if (!m[3]!.includes("!a")) archs.push("aarch64");
  if (!m[3]!.includes("!r")) archs.push("riscv64");
  return { name: m[1]!, hasArg: m[2] === "=", archs };
}

/** QEMU's options and irqlab's, by name. */
export const OPTION_TABLE: ReadonlyMap<string, OptionDef> = new Map(
  [...QEMU_OPTIONS_11_1, ...IRQLAB_OPTIONS].map((s) => {
    const d = parse(s);
    return [d.name, d] as const;
  }),
);

/** The QEMU options irqlab parses itself (the rest are refused, or taken by an extension). */
export const IMPLEMENTED_OPTIONS: ReadonlySet<string> = new Set([
  "h", "help", "version", "machine", "M", "cpu", "accel", "smp", "m", "device", "name", "kernel", "S",
  "nodefaults", "nographic", "display", "serial", "enable-kvm", "no-user-config", "seed", "trace", "until", "host",
]);

/** What an extension's parser may do besides keeping its own state. */
export interface ExtensionContext {
  readonly arch: MachineArch;
  /** The option being parsed, as QEMU prints it before a message ("-qmp unix:/tmp/q.sock,server=on"). */
  readonly location: string | undefined;
  /** vl.c's `default_monitor = 0` (what -qmp, -monitor and -mon do): -nographic then puts only the serial port on stdio. */
  disableDefaultMonitor(): void;
  /** One of the extension's character devices uses stdio: a later "-serial stdio" fails as in QEMU. */
  useStdio(): void;
  /** error_report() + exit(1) at this option: throws the QemuOptionError. */
  fail(text: string, hint?: string): never;
  /** warn_report() at this option. */
  warn(text: string, hint?: string): void;
  /** error_report() at this option, without exiting (a later fail() exits). */
  report(text: string, hint?: string): void;
}

/** One option an extension adds. */
export interface CommandLineExtension {
  /** The option name without the dash ("qmp"). */
  readonly name: string;
  /** Whether it takes an argument (HAS_ARG); for a QEMU option, as QEMU has it. */
  readonly hasArg: boolean;
  /** Its lines for -h, QEMU-style, each ending in "\n". */
  readonly help: string;
  /** Parses one occurrence (`arg` is undefined for an option without argument). */
  readonly parse: (arg: string | undefined, ctx: ExtensionContext) => void;
}

/** The table with the extensions' options added; an extension may not take an option irqlab implements. */
export function optionTableWith(extensions: readonly CommandLineExtension[]): Map<string, OptionDef> {
  const table = new Map(OPTION_TABLE);
  for (const ext of extensions) {
    const known = table.get(ext.name);
    if (IMPLEMENTED_OPTIONS.has(ext.name) || (known !== undefined && known.hasArg !== ext.hasArg)) {
      throw new ConfigError(`command-line extension '-${ext.name}' conflicts with an option of the same name`);
    }
    table.set(ext.name, { name: ext.name, hasArg: ext.hasArg, archs: known?.archs ?? ["aarch64", "riscv64"] });
  }
  return table;
}
