/**
 * Command lines QEMU 11.1.0 refuses, with the exact stderr it prints (here
 * with "qemu-system-ARCH" as the program name), and the QEMU function each
 * text comes from. "7.2: same" means Debian's QEMU 7.2 (run under TCG on
 * the development machine) printed the same text; where 7.2 differs the
 * note says how, and upstream 11.1 is what irqlab follows. Texts starting
 * with "irqlab" are irqlab's refusals of what QEMU accepts but irqlab does
 * not model.
 */

import { describe, expect, test } from "vitest";
import { parseSystemCommandLine } from "./system-command-line.js";
import { QemuOptionError } from "./qemu-error.js";

interface BadCase {
  readonly cmd: string | readonly string[];
  readonly stderr: string;
  /** The QEMU function the text comes from, and what Debian's 7.2 said. */
  readonly from: string;
}

function stderrOf(arch: "aarch64" | "riscv64", cmd: string | readonly string[]): string {
  const argv = typeof cmd === "string" ? cmd.split(" ").filter((a) => a !== "") : cmd;
  try {
    parseSystemCommandLine(arch, argv, { devices: ["virtio-net-pci", "virtio-rng-pci"] });
  } catch (e) {
    if (e instanceof QemuOptionError) return e.format(`qemu-system-${arch}`);
    throw e;
  }
  return "(accepted)";
}

const SIZE_HINT = "Optional suffix k, M, G, T, P or E means kilo-, mega-, giga-, tera-, peta-\nand exabytes, respectively.\n";

const AARCH64: readonly BadCase[] = [
  { cmd: "-foo", stderr: "-foo: invalid option\n", from: "vl.c lookup_opt; 7.2: same" },
  { cmd: "--foo", stderr: "--foo: invalid option\n", from: "vl.c lookup_opt (--foo is -foo)" },
  { cmd: ["-"], stderr: "-: invalid option\n", from: "vl.c lookup_opt" },
  { cmd: "-M virt -smp", stderr: "-smp: requires an argument\n", from: "vl.c lookup_opt; 7.2: same" },
  { cmd: "-M virt,foo=1 -foo -smp", stderr: "-foo: invalid option\n", from: "vl.c qemu_init: the first pass looks every option up first" },
  { cmd: "-M help -foo", stderr: "-foo: invalid option\n", from: "vl.c qemu_init first pass" },
  { cmd: "-M virt,,foo", stderr: "-M virt,,foo: Invalid parameter ''\n", from: "keyval.c keyval_parse_one; 7.2: same" },
  { cmd: "-M virt,a,b=1", stderr: "-M virt,a,b=1: Expected '=' after parameter 'a'\n", from: "keyval.c keyval_parse_one; 7.2: same" },
  { cmd: "-M virt,a.0=1,a.2=2", stderr: "-M virt,a.0=1,a.2=2: Parameter 'a.1' missing\n", from: "keyval.c keyval_listify; 7.2: same" },
  { cmd: "-M virt,foo=1", stderr: "Property 'virt-11.1-machine.foo' not found\n", from: "qom/object.c object_property_find_err; 7.2: 'virt-7.2-machine.foo'" },
  { cmd: "-M virt,foo=1,its=maybe", stderr: "Parameter 'its' expects 'on' or 'off'\n", from: "properties are set in QDict order (object_set_properties_from_qdict); 7.2: same" },
  { cmd: "-M nosuch", stderr: 'unsupported machine type: "nosuch"\nUse -machine help to list supported machines\n', from: 'vl.c select_machine; 7.2: "unsupported machine type" without the name' },
  { cmd: "", stderr: "No machine specified, and there is no default\nUse -machine help to list supported machines\n", from: "vl.c select_machine; 7.2: same" },
  { cmd: "-M virt-9.1", stderr: "irqlab models only the latest virt machine type of QEMU 11.1.0, virt-11.1, not virt-9.1\nUse -machine virt.\n", from: "irqlab (QEMU 11.1 has virt-9.1)" },
  { cmd: "-M virt,gic-version=5", stderr: "Invalid gic-version value\nValid values are 2, 3, 4, x-5, host, and max.\n", from: "virt.c virt_set_gic_version; 7.2: hint 'Valid values are 3, 2, host, max.'" },
  { cmd: "-M virt,gic-version=2", stderr: "KVM does not support GICv2 emulation\nirqlab's host offers only vgic-v3 (no GICv2 compatibility): use gic-version=3, host or max.\n", from: "virt.c finalize_gic_version_do on a vgic-v3-only host (plus irqlab's hint)" },
  { cmd: "-M virt,gic-version=4", stderr: "KVM does not support GICv4 emulation, is virtualization=on?\n", from: "virt.c finalize_gic_version_do (KVM never offers GICv4 emulation)" },
  { cmd: "-M virt,gic-version=x-5", stderr: "KVM does not support GICv5 emulation\n", from: "virt.c finalize_gic_version_do" },
  { cmd: "-M virt,its=maybe", stderr: "Parameter 'its' expects 'on' or 'off'\n", from: "qobject-input-visitor.c qobject_input_type_bool_keyval; 7.2: same" },
  { cmd: "-M virt,msi=foo", stderr: "Invalid msi value\nValid values are auto, gicv2m, its, off\n", from: "virt.c virt_set_msi (not in 7.2)" },
  { cmd: "-M virt,msi=gicv2m", stderr: "irqlab does not model the GICv2m MSI frame\nUse msi=its or msi=auto (an ITS), or msi=off.\n", from: "irqlab" },
  { cmd: "-M virt,x-cpu-hotplug=yes", stderr: "Invalid x-cpu-hotplug value\nValid values are off, precreate, and naive.\n", from: "irqlab's property, in virt.c's style" },
  { cmd: "-M virt,highmem-redists=off -smp 124 --host 128", stderr: "Number of SMP CPUs requested (124) exceeds max CPUs supported by machine 'mach-virt' (123)\nTry 'highmem-redists=on' for more CPUs\n", from: "virt.c machvirt_init (123 redistributors below 4 GiB)" },
  { cmd: "-M virt,secure=on", stderr: "mach-virt: KVM does not support providing Security extensions (TrustZone) to the guest CPU\n", from: "virt.c machvirt_init" },
  { cmd: "-M virt,virtualization=on", stderr: "mach-virt: host kernel KVM does not support providing Virtualization extensions to the guest CPU\nirqlab's host model has no nested virtualization.\n", from: "virt.c machvirt_init on a host without nested virtualization" },
  { cmd: "-M virt,acpi=on", stderr: "irqlab models only acpi=off or acpi=auto (no ACPI tables)\n", from: "irqlab" },
  { cmd: "-M virt,append=quiet", stderr: "irqlab does not model the machine property 'append'\nirqlab boots guest images (-kernel irqlab:NAME or a module path), not Linux kernels.\n", from: "irqlab" },
  { cmd: "-M virt,kernel_irqchip=on,kernel-irqchip=off", stderr: "Conflict between 'kernel_irqchip' and 'kernel-irqchip'\n", from: "vl.c keyval_dashify; 7.2: same" },
  { cmd: "-M virt,smp=4", stderr: "Invalid parameter type for 'smp', expected: object\n", from: "qobject-input-visitor.c qobject_input_start_struct; 7.2: same" },
  { cmd: "-M virt -smp foo", stderr: "Parameter 'smp.cpus' expects integer\n", from: "qobject-input-visitor.c qobject_input_type_int64_keyval; 7.2: same" },
  { cmd: "-M virt -smp 2,foo=1,bar=2", stderr: "Parameter 'smp.bar' is unexpected\n", from: "qobject_input_check_struct, first key in GHashTable order; 7.2: same" },
  { cmd: "-M virt -smp 1,dies=2", stderr: "dies > 1 not supported by this machine's CPU topology\n", from: "machine-smp.c machine_parse_smp_config; 7.2: 'dies not supported by ...'" },
  { cmd: "-M virt -smp 2,sockets=3", stderr: "Invalid CPU topology: product of the hierarchy must match maxcpus: sockets (3) * clusters (1) * cores (0) * threads (1) != maxcpus (2)\n", from: "machine-smp.c; 7.2: same" },
  { cmd: "-M virt -smp 600", stderr: "Invalid SMP CPUs 600. The max CPUs supported by machine 'virt-11.1' is 512\n", from: "machine-smp.c (mc->max_cpus); 7.2: 'virt-7.2'" },
  { cmd: "-M virt -m 1X", stderr: `-m 1X: Parameter 'size' expects a non-negative number below 2^64\n${SIZE_HINT}`, from: "qemu-option.c parse_option_size; 7.2: same" },
  { cmd: "-M virt -m 1.5", stderr: `-m 1.5: Parameter 'size' expects a non-negative number below 2^64\n${SIZE_HINT}`, from: "cutils.c do_strtosz (no fraction of a byte); 7.2: same" },
  { cmd: "-M virt -m 20E", stderr: "-m 20E: Value '20E' is out of range for parameter 'size'\n", from: "qemu-option.c parse_option_size" },
  { cmd: "-M virt -m 0x100", stderr: "Parameter 'memory.size' expects size\n", from: "qobject_input_type_size_keyval on '0x100M' (hex with a suffix, refused since QEMU 8.0); 7.2: accepted with a deprecation warning" },
  { cmd: "-M virt -m foo=1", stderr: "-m foo=1: Invalid parameter 'foo'\n", from: "qemu-option.c opt_validate; 7.2: same" },
  { cmd: "-M virt -m 1G -m slots=2", stderr: "slots specified but no max-size\n", from: "machine.c machine_set_mem; 7.2: same" },
  { cmd: "-M virt -m 1G,maxmem=512M", stderr: "invalid value of maxmem: maximum memory size (0x20000000) must be at least the initial memory size (0x40000000)\n", from: "machine.c machine_set_mem; 7.2: same" },
  { cmd: "-M virt -m 1G,slots=2,maxmem=1G", stderr: "invalid value of maxmem: memory slots were specified but maximum memory size (0x40000000) is equal to the initial memory size (0x40000000)\n", from: "machine.c machine_set_mem; 7.2: same" },
  { cmd: "-M virt -m 1G,maxmem=2G", stderr: "irqlab does not model memory hotplug: -m slots= and maxmem= above the RAM size are not supported\nGive only the RAM size, e.g. -m 2G.\n", from: "irqlab" },
  { cmd: "-M virt,memory=1G -m 2G", stderr: "-m 2G: Parameter 'memory' used inconsistently\n", from: "keyval.c keyval_merge (parse_memory_options); 7.2: same" },
  { cmd: "-M virt -accel foo", stderr: "-accel foo: invalid accelerator foo\n", from: "vl.c do_configure_accelerator; 7.2: same" },
  { cmd: "-M virt -accel tcg", stderr: "-accel tcg: invalid accelerator tcg\nirqlab models KVM only, like a QEMU built without TCG: use -accel kvm.\n", from: "vl.c do_configure_accelerator in a build without TCG (plus irqlab's hint)" },
  { cmd: "-M virt,accel=kvm -accel kvm", stderr: 'The -accel and "-machine accel=" options are incompatible\n', from: "vl.c configure_accelerators; 7.2: same" },
  { cmd: "-M virt -enable-kvm -accel kvm", stderr: 'The -accel and "-machine accel=" options are incompatible\n', from: "vl.c (-enable-kvm is accel=kvm)" },
  { cmd: "-M virt -accel kvm,foo=1", stderr: "-accel kvm,foo=1: Property 'kvm-accel.foo' not found\n", from: "object_property_find_err; 7.2 (no KVM on x86): -accel tcg,foo=1 gives 'tcg-accel.foo'" },
  { cmd: "-M virt -accel kvm,kernel-irqchip=foo", stderr: "-accel kvm,kernel-irqchip=foo: Parameter 'kernel-irqchip' does not accept value 'foo'\n", from: "qapi-visit-core.c input_type_enum (kvm_set_kernel_irqchip)" },
  { cmd: "-M virt -M kernel-irqchip=foo", stderr: "can't apply global kvm-accel.kernel-irqchip=foo: Parameter 'kernel-irqchip' does not accept value 'foo'\n", from: "qom/object.c object_apply_global_props" },
  { cmd: "-M virt -accel kvm,kernel-irqchip=split", stderr: "-accel kvm,kernel-irqchip=split: -machine kernel_irqchip=split is not supported on ARM.\n", from: "target/arm/kvm.c kvm_arch_irqchip_create" },
  { cmd: "-M virt -accel kvm,riscv-aia=emul", stderr: "-accel kvm,riscv-aia=emul: Property 'kvm-accel.riscv-aia' not found\n", from: "riscv-aia is a RISC-V kvm-accel property only" },
  { cmd: "-M virt -accel kvm,kernel-irqchip=off", stderr: "irqlab models only GICv3 with the in-kernel vgic: kernel-irqchip=off would make QEMU emulate a GICv2\nUse kernel-irqchip=on (the default).\n", from: "irqlab (QEMU picks a userspace GICv2 here)" },
  { cmd: "-M virt -accel kvm,kernel-irqchip=off -smp 9 --host 16", stderr: "KVM with kernel-irqchip=off only supports GICv2 emulation but more than 8 vcpus are requested\n", from: "virt.c finalize_gic_version_do" },
  { cmd: "-M virt -smp 600 --host 1024 -M gic-version=3", stderr: "Invalid SMP CPUs 600. The max CPUs supported by machine 'virt-11.1' is 512\n", from: "machine-smp.c" },
  { cmd: "-M virt -cpu cortex-a72", stderr: "unable to find CPU model 'cortex-a72'\n", from: "cpu-common.c parse_cpu_option (a KVM-only build has no target/arm/tcg models); 7.2 (with TCG) accepts it" },
  { cmd: ["-M", "virt", "-cpu", ""], stderr: "-cpu option cannot be empty\n", from: "cpu-common.c parse_cpu_option" },
  { cmd: "-M virt -cpu host,foo", stderr: "Expected key=value format, found foo.\n", from: "cpu-common.c cpu_common_parse_features" },
  { cmd: "-M virt -cpu cortex-a57", stderr: "irqlab does not model the CPU model 'cortex-a57'\nirqlab runs the host CPU: use -cpu host, -cpu max.\n", from: "irqlab" },
  { cmd: "-M virt -cpu host,pmu=maybe", stderr: "can't apply global host-arm-cpu.pmu=maybe: Parameter 'pmu' expects 'on' or 'off'\n", from: "qom/object.c object_apply_global_props, qapi_bool_parse; 7.2: same (with -cpu max)" },
  { cmd: "-M virt -cpu host,pmu=on,sve=off", stderr: "irqlab does not model CPU properties ('sve=off')\nUse -cpu host alone, or with pmu=on or pmu=off.\n", from: "irqlab" },
  { cmd: "-M virt -device virtio-net-pci,id=1x", stderr: "-device virtio-net-pci,id=1x: Parameter 'id' expects an identifier\nIdentifiers consist of letters, digits, '-', '.', '_', starting with a letter.\n", from: "qemu-option.c qemu_opts_create; 7.2: same" },
  { cmd: "-M virt -device virtio-net-pci,id=a -device virtio-rng-pci,id=a", stderr: "-device virtio-rng-pci,id=a: Duplicate ID 'a' for device\n", from: "qemu-option.c qemu_opts_create; 7.2: same" },
  { cmd: "-M virt -device id=x", stderr: "-device id=x: Parameter 'driver' is missing\n", from: "qdev-monitor.c qdev_device_add_from_qdict; 7.2: same" },
  { cmd: "-M virt -device foo,x=1", stderr: "-device foo,x=1: 'foo' is not a valid device model name\n", from: "qdev-monitor.c qdev_get_device_class; 7.2: same" },
  { cmd: "-M virt -name a,foo", stderr: "-name a,foo: warning: short-form boolean option 'foo' deprecated\nPlease use foo=on instead\nqemu-system-aarch64: -name a,foo: Invalid parameter 'foo'\n", from: "qemu-option.c get_opt_name_value, opt_validate; 7.2: same" },
  { cmd: "-M virt -serial foo", stderr: "-serial foo: 'foo' is not a valid char driver\nqemu-system-aarch64: -serial foo: could not connect serial device to character backend 'foo'\n", from: "char.c qemu_chr_parse_compat, vl.c serial_parse; 7.2: same" },
  { cmd: "-M virt -nographic -serial stdio", stderr: "-serial stdio: cannot use stdio by multiple character devices\nqemu-system-aarch64: -serial stdio: could not connect serial device to character backend 'stdio'\n", from: "char-stdio.c (the default monitor has stdio); 7.2: same" },
  { cmd: "-M virt -serial tcp::4444,server=on", stderr: "-serial tcp::4444,server=on: irqlab does not model the character backend 'tcp::4444,server=on'\nirqlab's serial console can go to stdio, mon:stdio, null or none.\n", from: "irqlab" },
  { cmd: "-M virt -display gtk", stderr: "-display gtk: Parameter 'type' does not accept value 'gtk'\n", from: "input_type_enum, in a build without GTK" },
  { cmd: "-M virt -display none,foo=1", stderr: "-display none,foo=1: Parameter 'foo' is unexpected\n", from: "qobject_input_check_struct; 7.2: same" },
  { cmd: "-M virt -display none,gl=on", stderr: "OpenGL support was not enabled in this build of QEMU\n", from: "vl.c qemu_create_early_backends; 7.2 (with OpenGL): 'OpenGL is not supported by the display'" },
  { cmd: "-M virt -append quiet", stderr: "-append quiet: Option not supported in this build\n", from: "vl.c option loop, default case" },
  { cmd: "-M virt -qmp stdio", stderr: "-qmp stdio: Option not supported in this build\n", from: "vl.c default case, until an extension provides -qmp" },
  { cmd: "disk.img", stderr: "disk.img: irqlab models no block devices: a disk image argument is not supported\n", from: "irqlab" },
  { cmd: "-M virt --seed x", stderr: "--seed x: Invalid seed number: x\n", from: "util/guest-random.c qemu_guest_random_seed_main" },
  { cmd: "-M virt --until 5", stderr: "--until 5: Parameter 'until' expects a duration\nA duration is a number and a unit: ns, us, ms or s (e.g. 10ms, 2s, 500us, 1000ns).\n", from: "irqlab" },
  { cmd: "-M virt --host harts=0", stderr: "--host harts=0: Parameter 'harts' expects a number between 1 and 4096\n", from: "irqlab" },
];

const RISCV64: readonly BadCase[] = [
  { cmd: "-M virt,aia=foo", stderr: "Invalid AIA interrupt controller type\nValid values are none, aplic, and aplic-imsic.\n", from: "hw/riscv/virt.c virt_set_aia; 7.2: same" },
  { cmd: "-M virt,aia-guests=8", stderr: "Invalid number of AIA IMSIC guests\nValid values be between 0 and 7.\n", from: "hw/riscv/virt.c virt_set_aia_guests; 7.2: same" },
  { cmd: "-M virt -accel kvm,riscv-aia=foo", stderr: "-accel kvm,riscv-aia=foo: Invalid KVM AIA mode\nValid values are emul, hwaccel, and auto.\n", from: "target/riscv/kvm/kvm-cpu.c riscv_set_kvm_aia" },
  { cmd: "-M virt,aclint=on", stderr: "'aclint' is only available with TCG acceleration\n", from: "hw/riscv/virt.c virt_machine_init" },
  { cmd: "-M virt -smp 2,clusters=2", stderr: "clusters > 1 not supported by this machine's CPU topology\n", from: "machine-smp.c (riscv virt sets no smp_props)" },
  { cmd: "-M virt -smp 1025 --host 2048", stderr: "Invalid SMP CPUs 1025. The max CPUs supported by machine 'virt' is 512\n", from: "machine-smp.c (VIRT_CPUS_MAX)" },
  { cmd: "-M virt -acpitable x", stderr: "-acpitable x: Option not supported for this target\n", from: "vl.c qemu_init (arch_mask is QEMU_ARCH_I386)" },
  { cmd: "-M virt -cpu thead-c906", stderr: "irqlab does not model the CPU model 'thead-c906'\nirqlab runs the host CPU: use -cpu host, -cpu max, -cpu rv64.\n", from: "irqlab" },
  // `pmu` is an Arm CPU property; RISC-V's are pmu-mask and pmu-num.
  { cmd: "-M virt -cpu rv64,pmu=off", stderr: "irqlab does not model CPU properties ('pmu=off')\nUse -cpu rv64 alone.\n", from: "irqlab" },
  { cmd: "-M virt,gic-version=3", stderr: "Property 'virt-machine.gic-version' not found\n", from: "object_property_find_err" },
  { cmd: "-M sifive_u", stderr: 'unsupported machine type: "sifive_u"\nUse -machine help to list supported machines\n', from: "vl.c select_machine (irqlab models virt only)" },
];

describe("bad aarch64 command lines", () => {
  test.each(AARCH64.map((c) => [typeof c.cmd === "string" ? c.cmd : c.cmd.join(" "), c] as const))("%s", (_name, c) => {
    expect(stderrOf("aarch64", c.cmd)).toBe(`qemu-system-aarch64: ${c.stderr}`);
  });
});

describe("bad riscv64 command lines", () => {
  test.each(RISCV64.map((c) => [typeof c.cmd === "string" ? c.cmd : c.cmd.join(" "), c] as const))("%s", (_name, c) => {
    expect(stderrOf("riscv64", c.cmd)).toBe(`qemu-system-riscv64: ${c.stderr}`);
  });
});

describe("QemuOptionError", () => {
  test("message is what QEMU prints after the program name, for the error it exits on", () => {
    try {
      parseSystemCommandLine("aarch64", ["-M", "virt", "-m", "1X"]);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(QemuOptionError);
      const err = e as QemuOptionError;
      expect(err.message).toBe(`-m 1X: Parameter 'size' expects a non-negative number below 2^64\n${SIZE_HINT.trimEnd()}`);
      expect(err.fatal).toEqual({ kind: "error", location: "-m 1X", text: "Parameter 'size' expects a non-negative number below 2^64", hint: SIZE_HINT });
      expect(err.code).toBe("ERR_QEMU_OPTION");
    }
  });
});
