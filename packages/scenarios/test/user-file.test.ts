// User scenario files: the example runs; bad files are refused with the path of the bad field and why.
import { join } from "node:path";
import { expect, test } from "vitest";
import { runScenario } from "../src/framework/run-scenario.js";
import { parseUserScenario } from "../src/user-file/user-file-load.js";
import { loadUserScenarioFile } from "../src/user-file/user-file-read.js";
import { userScenario } from "../src/user-file/user-scenario.js";

const EXAMPLE = join(import.meta.dirname, "..", "examples", "two-vms-vsfile.yaml");

const MACHINE = "  - name: vm0\n    arch: riscv64\n    args: -M virt,aia=aplic-imsic -accel kvm,riscv-aia=hwaccel -smp 1 -m 64M -kernel irqlab:hello\n";
const ok = (extra = "", machines = MACHINE) => `name: t\nmachines:\n${machines}run-for: 1ms\n${extra}`;

test("the example: stock QEMU stops vm0, the pin-next patch on 6.18 keeps re-pinning it, auto boots both", () => {
  const s = userScenario(loadUserScenarioFile(EXAMPLE));
  expect(s.remedies.map((r) => r.name)).toEqual(["stock", "pin-next-6.18", "auto"]);
  const r = runScenario(s, { remedies: ["stock", "auto"] });
  const [stock, auto] = r.rows;
  expect(stock!.values["vm0.run-state"]).toBe("internal-error");
  expect(stock!.values["vm0.fail-entries"]).toBe(1);
  expect(stock!.values["vm0.qmp"]).toBe('{"return":{"status":"internal-error","running":false}}');
  expect(stock!.values["vm1.console"]).toBe("reboot: Power down");
  expect(auto!.values["vm0.run-state"]).toBe("shutdown");
  expect(auto!.values["vm0.console"]).toBe("reboot: Power down");
  expect(stock!.notes[0]).toBe('20us vm0 <- {"execute":"stop"} -> {"return":{}}');
});

test("a file without remedies runs as written; JSON files are read as JSON", () => {
  const f = parseUserScenario(JSON.stringify({ name: "j", machines: [{ name: "a", arch: "aarch64", args: ["-M", "virt", "-accel", "kvm", "-cpu", "host", "-kernel", "irqlab:hello"] }], "run-for": "5ms", measures: ["run-state", "console"] }), "j.json");
  const r = runScenario(userScenario(f));
  expect(r.rows.map((x) => x.remedy)).toEqual(["as-written"]);
  expect(r.rows[0]!.values).toEqual({ "a.run-state": "shutdown", "a.console": "reboot: Power down" });
});

test("QMP commands get QEMU's replies, errors included", () => {
  const f = parseUserScenario(ok("timeline:\n  - { at: 10us, machine: vm0, qmp: { execute: query-hotpluggable-gpus } }\n  - { at: 20us, machine: vm0, qmp: { execute: stop, arguments: { x: 1 } } }\nmeasures: [qmp, qmp-events]\n"), "q.yaml");
  const r = runScenario(userScenario(f));
  expect(r.rows[0]!.values["vm0.qmp-events"]).toBe("SHUTDOWN");
  expect(r.rows[0]!.notes).toEqual([
    '10us vm0 <- {"execute":"query-hotpluggable-gpus"} -> {"error":{"class":"CommandNotFound","desc":"The command query-hotpluggable-gpus has not been found"}}',
    '20us vm0 <- {"execute":"stop","arguments":{"x":1}} -> {"error":{"class":"GenericError","desc":"Parameter \'x\' is unexpected"}}',
  ]);
});

test.each([
  ["not YAML", "name: [", /^f\.yaml:1:\d+: not valid YAML/],
  ["a missing field", "name: t\nrun-for: 1ms\n", /^f\.yaml: machines: /],
  ["an unknown field", ok("colour: red\n"), /^f\.yaml: colour: unknown field 'colour'$/],
  ["a bad duration", ok().replace("1ms", "1 minute"), /^f\.yaml: run-for: must be a duration/],
  ["a bad arch", ok("", MACHINE.replace("riscv64", "x86_64")), /^f\.yaml: machines\[0\]\.arch: must be aarch64 or riscv64$/],
  ["a command line QEMU refuses", ok("", MACHINE.replace("-smp 1", "-smp foo")), /^f\.yaml: machines\[0\]\.args: irqlab-system-riscv64: Parameter 'smp\.cpus' expects integer$/],
  ["an unknown guest image", ok("", MACHINE.replace("irqlab:hello", "irqlab:doom")), /^f\.yaml: machines\[0\]\.args: unknown guest image 'doom'/],
  ["an event for an unknown machine", ok("timeline:\n  - { at: 1us, machine: vm9, qmp: { execute: stop } }\n"), /^f\.yaml: timeline\[0\]\.machine: no machine 'vm9' \(machines: vm0\)$/],
  ["an event with neither qmp nor device", ok("timeline:\n  - { at: 1us, machine: vm0 }\n"), /^f\.yaml: timeline\[0\]: an event has either 'qmp' or 'device'$/],
  ["a device that is not plugged", ok("timeline:\n  - { at: 1us, machine: vm0, device: { id: eth0, action: pulse } }\n"), /^f\.yaml: timeline\[0\]\.device\.id: machine 'vm0' has no -device vfio-platform,\.\.\.,id=eth0$/],
  ["an event after the end", ok("timeline:\n  - { at: 2ms, machine: vm0, qmp: { execute: stop } }\n"), /^f\.yaml: timeline\[0\]\.at: is after the end of the run/],
  ["a bad measure", ok("measures: [temperature]\n"), /^f\.yaml: measures\[0\]: must be one of run-state, /],
  ["a remedy for an unknown machine", ok("remedies:\n  - { name: r, args: { vm7: -M virt } }\n"), /^f\.yaml: remedies\[0\]\.args\.vm7: no machine 'vm7'$/],
  ["mixed architectures", ok("", MACHINE + MACHINE.replace("vm0", "vm1").replace("riscv64", "aarch64").replace(/-M .*$/m, "-M virt -accel kvm -cpu host")), /^f\.yaml: machines\[1\]\.arch: all machines share one host/],
])("%s is refused with the field's path", (_what, text, message) => {
  expect(() => parseUserScenario(text, "f.yaml")).toThrow(message);
});

test("a file that cannot be read", () => {
  expect(() => loadUserScenarioFile("/nonexistent/x.yaml")).toThrow("/nonexistent/x.yaml: cannot read the scenario file (ENOENT)");
});
