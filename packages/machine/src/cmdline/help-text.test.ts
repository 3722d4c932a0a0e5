/**
 * What the command line prints instead of running: -help, -version, the
 * lists (-machine help, -cpu help, -accel help, -device help, -smp help,
 * -display help, QemuOpts help, which exits 1), and the extension point
 * the QMP task plugs -qmp into.
 */

import { describe, expect, test } from "vitest";
import { parseSystemCommandLine, type SystemCommandLine } from "./system-command-line.js";
import type { CommandLineExtension } from "./option-table.js";
import { QemuOptionError } from "./qemu-error.js";

function out(arch: "aarch64" | "riscv64", cmd: string, options: Parameters<typeof parseSystemCommandLine>[2] = {}): SystemCommandLine {
  return parseSystemCommandLine(arch, cmd.split(" ").filter((a) => a !== ""), options);
}

const DEVICES = [
  { name: "virtio-net-pci", bus: "PCI", desc: "Virtio network device", categories: ["Network"] as const, props: [{ name: "mac", type: "str", description: "Ethernet 6-byte MAC Address" }] },
  { name: "pl061", bus: "System" },
];

describe("-help and -version", () => {
  test("-version says it is irqlab and which QEMU it mirrors", () => {
    const r = out("aarch64", "-version");
    expect(r).toMatchObject({ kind: "version" });
    expect(r.kind === "version" && r.text).toBe(
      "irqlab emulator version 0.1.0 (command line of QEMU emulator version 11.1.0)\n" +
        "irqlab is a model of the KVM/QEMU interrupt-virtualization stack, not QEMU.\n" +
        "QEMU is Copyright (c) 2003-2026 Fabrice Bellard and the QEMU Project developers\n",
    );
  });

  test("-h and -help list what irqlab implements, per target", () => {
    for (const opt of ["-h", "-help", "--help"]) expect(out("aarch64", opt).kind).toBe("help");
    const arm = out("aarch64", "-h");
    const rv = out("riscv64", "-help");
    if (arm.kind !== "help" || rv.kind !== "help") throw new Error("help");
    expect(arm.text).toContain("usage: irqlab-system-aarch64 [options]");
    expect(arm.text).toContain("QEMU 11.1.0");
    expect(arm.text).toContain("(-machine virt is virt-11.1)");
    for (const o of ["-machine", "-cpu", "-accel", "-smp", "-m ", "-device", "-name", "-kernel", "-S ", "-nodefaults", "-nographic", "-display", "-serial", "-enable-kvm", "-until", "-trace", "-seed", "-host"]) {
      expect(arm.text).toContain(`\n${o}`);
    }
    expect(arm.text).toContain("gic-version=3|host|max");
    expect(arm.text).toContain("x-cpu-hotplug=off|precreate|naive");
    expect(arm.text).not.toContain("riscv-aia");
    expect(rv.text).toContain("aia=none|aplic|aplic-imsic");
    expect(rv.text).toContain("riscv-aia=emul|hwaccel|auto");
    expect(rv.text).not.toContain("gic-version");
  });

  test("-help exits in the option loop: later options are not parsed, but still looked up", () => {
    expect(out("aarch64", "-h -M virt,foo=1").kind).toBe("help");
    expect(() => out("aarch64", "-h -foo")).toThrow("-foo: invalid option");
  });
});

describe("lists", () => {
  test.each<[string, "aarch64" | "riscv64", string]>([
    ["-M help", "aarch64", "Supported machines are:\nvirt                 QEMU 11.1 ARM Virtual Machine (alias of virt-11.1)\nvirt-11.1            QEMU 11.1 ARM Virtual Machine\n(irqlab models only these, with the defaults of QEMU 11.1.0)\n"],
    ["-machine ?", "riscv64", "Supported machines are:\nvirt                 RISC-V VirtIO board\n(irqlab models only these, with the defaults of QEMU 11.1.0)\n"],
    ["-M virt-9.1,help", "aarch64", "Supported machines are:\nvirt                 QEMU 11.1 ARM Virtual Machine (alias of virt-11.1)\nvirt-11.1            QEMU 11.1 ARM Virtual Machine\n(irqlab models only these, with the defaults of QEMU 11.1.0)\n"],
    ["-cpu help", "aarch64", "Available CPUs:\n  host\n  max\n"],
    ["-M virt -cpu ?", "riscv64", "Available CPUs:\n  host\n  max\n  rv64\n"],
    ["-accel help", "aarch64", "Accelerators supported in QEMU binary:\nkvm\n"],
    ["-smp help", "aarch64", "smp-opts options:\n  books=<num>\n  clusters=<num>\n  cores=<num>\n  cpus=<num>\n  dies=<num>\n  drawers=<num>\n  maxcpus=<num>\n  modules=<num>\n  sockets=<num>\n  threads=<num>\n"],
    ["-display help", "aarch64", "Available display backend types:\nnone\n\nSome display backends support suboptions, which can be set with\n   -display backend,option=value,option=value...\nFor a short list of the suboptions for each display, see the top-level -help output; more detail is in the documentation.\n"],
  ])("%s (%s)", (cmd, arch, text) => {
    expect(out(arch, cmd)).toEqual({ kind: "list", text, exitCode: 0, diagnostics: [] });
  });

  test("-machine virt,help: the class's properties, as type_print_class_properties prints them", () => {
    const r = out("aarch64", "-M virt,help");
    if (r.kind !== "list") throw new Error(r.kind);
    const lines = r.text.split("\n");
    expect(lines[0]).toBe("virt-11.1-machine options:");
    expect(lines).toContain("  gic-version=<string>   - Set GIC version. Valid values are 2, 3, 4, x-5, host and max");
    expect(lines).toContain("  its=<bool>             - Set on/off to enable/disable ITS instantiation");
    expect(lines).toContain("  smp=<SMPConfiguration> - CPU topology");
    expect(lines.some((l) => l.startsWith("  x-vgic-init=<string>"))).toBe(true);
    expect(lines.some((l) => l.startsWith("  hmat="))).toBe(false);
    const sorted = lines.slice(1, -1);
    expect(sorted).toEqual([...sorted].sort());
  });

  test("QemuOpts help prints the list and exits 1 (qemu_opts_parse_noisily returns NULL)", () => {
    expect(out("aarch64", "-m 1G,help")).toEqual({ kind: "list", text: "memory options:\n  maxmem=<size>\n  size=<size>\n  slots=<num>\n", exitCode: 1, diagnostics: [] });
    const name = out("aarch64", "-name x,?");
    expect(name.kind === "list" && [name.exitCode, name.text.split("\n")[0]]).toEqual([1, "name options:"]);
  });

  test("-device help and -device DRIVER,help use the machine's driver list", () => {
    expect(out("aarch64", "-device help", { devices: DEVICES })).toMatchObject({
      kind: "list",
      exitCode: 0,
      text: 'Network devices:\nname "virtio-net-pci", bus PCI, desc "Virtio network device"\n\nUncategorized devices:\nname "pl061", bus System\n',
    });
    expect(out("aarch64", "-M virt -device virtio-net-pci,help", { devices: DEVICES })).toMatchObject({
      text: "virtio-net-pci options:\n  mac=<str>              - Ethernet 6-byte MAC Address\n",
    });
    expect(out("aarch64", "-device pl061,?", { devices: DEVICES })).toMatchObject({ text: "There are no options for pl061.\n" });
    // An unknown driver's help is an error message, and still exit status 0 (qdev_device_help returns 1).
    expect(out("aarch64", "-device foo,help", { devices: DEVICES })).toEqual({
      kind: "list", text: "", exitCode: 0, diagnostics: [{ kind: "error", location: "-device foo,help", text: "Device 'foo' not found" }],
    });
  });
});

describe("the extension point (CommandLineExtension)", () => {
  function qmp(seen: string[]): CommandLineExtension {
    return {
      name: "qmp",
      hasArg: true,
      help: "-qmp dev        like -monitor but opens in 'control' mode\n",
      parse: (arg, ctx) => {
        if (arg === "bad") ctx.fail("could not connect to 'bad'");
        if (arg === "stdio") ctx.useStdio();
        ctx.disableDefaultMonitor();
        seen.push(arg ?? "");
      },
    };
  }

  test("an extension parses its option in command-line order and shows in -help", () => {
    const seen: string[] = [];
    const r = out("aarch64", "-M virt -qmp unix:/tmp/q.sock -qmp tcp::4444 -nographic", { extensions: [qmp(seen)] });
    expect(seen).toEqual(["unix:/tmp/q.sock", "tcp::4444"]);
    // default_monitor = 0: with -nographic the serial port alone takes stdio.
    expect(r.kind === "run" && r.config.serial).toEqual(["stdio"]);
    const h = out("aarch64", "-h", { extensions: [qmp([])] });
    expect(h.kind === "help" && h.text).toContain("-qmp dev        like -monitor");
  });

  test("its errors are reported at its option; its stdio conflicts with -serial stdio", () => {
    expect(() => out("aarch64", "-M virt -qmp bad", { extensions: [qmp([])] })).toThrow(QemuOptionError);
    try {
      out("aarch64", "-M virt -qmp bad", { extensions: [qmp([])] });
    } catch (e) {
      expect((e as QemuOptionError).message).toBe("-qmp bad: could not connect to 'bad'");
    }
    expect(() => out("aarch64", "-M virt -qmp stdio -serial stdio", { extensions: [qmp([])] })).toThrow(
      "-serial stdio: could not connect serial device to character backend 'stdio'",
    );
  });

  test("an extension may not take an option irqlab implements", () => {
    const ext: CommandLineExtension = { name: "smp", hasArg: true, help: "", parse: () => undefined };
    expect(() => out("aarch64", "-M virt", { extensions: [ext] })).toThrow("conflicts");
  });
});
