/**
 * The QMP protocol as monitor/qmp.c and qapi/qmp-dispatch.c implement it:
 * greeting, negotiation, request checks, id echo, parse errors, chunking,
 * events with timestamps, several sessions, closing.
 */
import { KVM_SYSTEM_EVENT_CRASH, KVM_SYSTEM_EVENT_RESET, SystemEventExit } from "@irqlab/kvm";
import { describe, expect, test } from "vitest";
import { armConfig } from "../../test/machine-config-fixture.js";
import { QmpTestClient } from "../../test/qmp-test-client.js";
import { IRQLAB_VERSION } from "../cmdline/help-text.js";
import { Machine } from "../machine.js";
import { QmpMonitor } from "./qmp-monitor.js";

function setup(o: { oob?: boolean; startPaused?: boolean } = {}): { m: Machine; mon: QmpMonitor } {
  const m = Machine.create({ config: armConfig({ cpus: 2, startPaused: o.startPaused ?? false }), trace: true });
  return { m, mon: new QmpMonitor(m, o.oob === undefined ? {} : { oob: o.oob }) };
}

const err = (cls: string, desc: string, id?: unknown): Record<string, unknown> => ({ error: { class: cls, desc }, ...(id === undefined ? {} : { id }) });

describe("QMP protocol", () => {
  test("the greeting is sent at once, exactly as QEMU writes it", () => {
    const { mon } = setup();
    const c = new QmpTestClient(mon);
    expect(c.texts).toEqual([`{"QMP": {"version": {"qemu": {"micro": 0, "minor": 1, "major": 11}, "package": " (irqlab ${IRQLAB_VERSION})"}, "capabilities": []}}\r\n`]);
    const oob = new QmpTestClient(setup({ oob: true }).mon);
    expect(oob.take()[0]).toMatchObject({ QMP: { capabilities: ["oob"] } });
  });

  test("pretty=on writes qobject_to_json_pretty's layout with CRLF line ends", () => {
    const m = Machine.create({ config: armConfig() });
    const texts: string[] = [];
    const s = new QmpMonitor(m, { pretty: true }).connect((t) => texts.push(t));
    s.receive('{"execute": "qmp_capabilities", "id": [1]}{"execute": "query-kvm"}');
    expect(texts[1]).toBe('{\r\n    "return": {\r\n    },\r\n    "id": [\r\n        1\r\n    ]\r\n}\r\n');
    expect(texts[2]).toBe('{\r\n    "return": {\r\n        "enabled": true,\r\n        "present": true\r\n    }\r\n}\r\n');
  });

  test("before negotiation only qmp_capabilities runs; after it, it is refused", () => {
    const { mon } = setup();
    const c = new QmpTestClient(mon);
    expect(c.exec({ execute: "query-status", id: 1 })).toEqual([err("CommandNotFound", "Expecting capabilities negotiation with 'qmp_capabilities'", 1)]);
    expect(c.exec({ execute: "no-such-command" })).toEqual([err("CommandNotFound", "Expecting capabilities negotiation with 'qmp_capabilities'")]);
    // Errors other than CommandNotFound keep their text.
    expect(c.exec({ execute: 1 })).toEqual([err("GenericError", "QMP input member 'execute' must be a string")]);
    expect(c.session.negotiated).toBe(false);
    expect(c.texts.at(-1)).toBe('{"error": {"class": "GenericError", "desc": "QMP input member \'execute\' must be a string"}}\r\n');
    expect(c.exec({ execute: "qmp_capabilities", id: "neg" })).toEqual([{ return: {}, id: "neg" }]);
    expect(c.texts.at(-1)).toBe('{"return": {}, "id": "neg"}\r\n');
    expect(c.session.negotiated).toBe(true);
    expect(c.exec({ execute: "qmp_capabilities" })).toEqual([err("CommandNotFound", "Capabilities negotiation is already complete, command ignored")]);
    expect(c.exec({ execute: "no-such-command", id: 2 })).toEqual([err("CommandNotFound", "The command no-such-command has not been found", 2)]);
    expect(c.texts.at(-1)).toBe('{"id": 2, "error": {"class": "CommandNotFound", "desc": "The command no-such-command has not been found"}}\r\n');
  });

  test("capabilities: oob only when offered, enum values checked by the input visitor", () => {
    const plain = new QmpTestClient(setup().mon);
    expect(plain.exec({ execute: "qmp_capabilities", arguments: { enable: ["oob"] } })).toEqual([err("GenericError", "Capability oob not available")]);
    expect(plain.exec({ execute: "qmp_capabilities", arguments: { enable: ["fast"] } })).toEqual([err("GenericError", "Parameter 'null' does not accept value 'fast'")]);
    expect(plain.exec({ execute: "qmp_capabilities", arguments: { enable: "oob" } })).toEqual([err("GenericError", "Invalid parameter type for 'enable', expected: array")]);
    expect(plain.exec({ execute: "qmp_capabilities", arguments: { enable: [1] } })).toEqual([err("GenericError", "Invalid parameter type for 'enable[0]', expected: string")]);
    const c = new QmpTestClient(setup({ oob: true }).mon);
    expect(c.exec({ execute: "qmp_capabilities", arguments: { enable: ["oob"] } })).toEqual([{ return: {} }]);
    expect(c.exec({ "exec-oob": "query-status", id: "o" })).toEqual([err("GenericError", "The command query-status does not support OOB", "o")]);
    expect(c.exec({ "exec-oob": "query-status", execute: "query-status" })[0]!.error).toBeDefined();
  });

  test("exec-oob without the capability is an unexpected member", () => {
    const c = QmpTestClient.negotiated(setup().mon);
    expect(c.exec({ "exec-oob": "query-status", id: 5 })).toEqual([err("GenericError", "QMP input member 'exec-oob' is unexpected", 5)]);
  });

  test("request checks in QDict order, with the id echoed whatever its type", () => {
    const c = QmpTestClient.negotiated(setup().mon);
    expect(c.exec([1, 2])).toEqual([err("GenericError", "QMP input must be a JSON object")]);
    expect(c.exec({ id: 3 })).toEqual([err("GenericError", "QMP input lacks member 'execute'", 3)]);
    expect(c.exec({ execute: "query-kvm", bogus: 1 })).toEqual([err("GenericError", "QMP input member 'bogus' is unexpected")]);
    expect(c.exec({ execute: "query-kvm", arguments: [] })).toEqual([err("GenericError", "QMP input member 'arguments' must be an object")]);
    for (const id of [{ a: [1, "x"] }, [null], "s", 7, 1.5, true, null]) expect(c.exec({ execute: "query-kvm", id })).toEqual([{ return: { enabled: true, present: true }, id }]);
  });

  test("arguments are visited as QEMU's input visitor does", () => {
    const c = QmpTestClient.negotiated(setup().mon);
    expect(c.exec({ execute: "query-status", arguments: { x: 1 } })).toEqual([err("GenericError", "Parameter 'x' is unexpected")]);
    expect(c.exec({ execute: "qom-get", arguments: { path: "/machine" } })).toEqual([err("GenericError", "Parameter 'property' is missing")]);
    expect(c.exec({ execute: "qom-get", arguments: { path: 1, property: "type" } })).toEqual([err("GenericError", "Invalid parameter type for 'path', expected: string")]);
    expect(c.exec({ execute: "x-irqlab-step", arguments: { ns: 1.5 } })).toEqual([err("GenericError", "Invalid parameter type for 'ns', expected: integer")]);
    c.take();
    c.raw('{"execute": "x-irqlab-step", "arguments": {"ns": 1.0}}');
    expect(c.take()).toEqual([err("GenericError", "Invalid parameter type for 'ns', expected: integer")]);
  });

  test("parse errors answer without id; the next message is read normally", () => {
    const c = QmpTestClient.negotiated(setup().mon);
    c.raw('{"execute": "query-kvm", "id": 1,}\n{"execute": "query-kvm", "id": 2}');
    expect(c.take()).toEqual([err("GenericError", "JSON parse error, expecting value"), { return: { enabled: true, present: true }, id: 2 }]);
    c.raw("\x1b{'execute': 'query-kvm'}");
    expect(c.take()).toEqual([err("GenericError", "JSON parse error, stray '\x1b'"), { return: { enabled: true, present: true } }]);
  });

  test("split chunks, several messages per chunk, responses in order", () => {
    const c = QmpTestClient.negotiated(setup().mon);
    const text = '{"execute":"query-kvm","id":1}{"execute":"query-status","id":2}\r\n{"execute":"query-version","id":3}';
    for (const ch of text) c.raw(ch);
    expect(c.take().map((r) => r.id)).toEqual([1, 2, 3]);
  });

  test("events go to negotiated sessions in order, with data and virtual-time timestamps", () => {
    const { m, mon } = setup();
    const a = QmpTestClient.negotiated(mon);
    const b = QmpTestClient.negotiated(mon);
    const quiet = new QmpTestClient(mon); // not negotiated: no events
    m.run(1_234_567_891);
    const stop = a.exec({ execute: "stop", id: "s" });
    expect(stop).toEqual([{ timestamp: { seconds: 1, microseconds: 234567 }, event: "STOP" }, { return: {}, id: "s" }]);
    expect(a.texts.at(-2)).toBe('{"timestamp": {"seconds": 1, "microseconds": 234567}, "event": "STOP"}\r\n');
    expect(b.take()).toEqual([{ timestamp: { seconds: 1, microseconds: 234567 }, event: "STOP" }]);
    expect(a.exec({ execute: "cont" })[0]).toMatchObject({ event: "RESUME" });
    a.exec({ execute: "quit" });
    expect(b.take().map((e) => [e.event, e.data])).toEqual([
      ["RESUME", undefined],
      ["SHUTDOWN", { guest: false, reason: "host-qmp-quit" }],
    ]);
    expect(quiet.take()).toHaveLength(1); // the greeting only
  });

  test("guest-side events are forwarded with their data: GUEST_PANICKED then STOP, a guest reset", () => {
    const { m, mon } = setup();
    const c = QmpTestClient.negotiated(mon);
    m.run(2000);
    const exit = (type: number): SystemEventExit => Object.assign(new SystemEventExit(), { type });
    m.systemEvent(exit(KVM_SYSTEM_EVENT_RESET), 0);
    m.run(1000);
    m.systemEvent(exit(KVM_SYSTEM_EVENT_CRASH), 0);
    expect(c.take().map((e) => [e.event, e.data, e.timestamp])).toEqual([
      ["RESET", { guest: true, reason: "guest-reset" }, { seconds: 0, microseconds: 2 }],
      ["GUEST_PANICKED", { action: "pause" }, { seconds: 0, microseconds: 3 }],
      ["STOP", undefined, { seconds: 0, microseconds: 3 }],
    ]);
    expect(c.exec({ execute: "cont" })).toEqual([{ error: { class: "GenericError", desc: "Resetting the Virtual Machine is required" } }]);
  });

  test("a session closed mid-message harms nothing; others go on", () => {
    const { mon } = setup();
    const a = QmpTestClient.negotiated(mon);
    const b = QmpTestClient.negotiated(mon);
    a.raw('{"execute": "st');
    a.session.close();
    a.raw('op"}');
    expect(a.take()).toEqual([]);
    expect(a.session.closed).toBe(true);
    expect(mon.sessions).toHaveLength(1);
    expect(b.exec({ execute: "query-status" })).toEqual([{ return: { running: true, status: "running" } }]);
  });

  test("commands are recorded on the machine's qmp track at the virtual time they are read", () => {
    const { m, mon } = setup();
    const c = QmpTestClient.negotiated(mon);
    m.run(5000);
    c.exec({ execute: "query-status" });
    c.exec({ execute: "nope" });
    const track = m.tracer.tracks().find((t) => t.name === "qmp")!;
    const evs = m.tracer.events().flatMap((e) => (e.phase === "instant" && e.track === track.id ? [[e.name, e.ts, e.args] as const] : []));
    expect(evs).toEqual([
      ["qmp_capabilities", 0, {}],
      ["query-status", 5000, {}],
      ["nope", 5000, { error: "CommandNotFound" }],
    ]);
  });

  test("execute() runs a command without a session", () => {
    const { mon } = setup({ startPaused: true });
    expect(mon.execute("query-status")).toEqual({ return: { running: false, status: "prelaunch" } });
    expect(mon.execute("stop")).toEqual({ return: {} });
    expect(mon.execute("query-status")).toEqual({ return: { running: false, status: "prelaunch" } });
    expect(mon.execute("qom-get", { path: "/nowhere", property: "type" })).toEqual({ error: { class: "DeviceNotFound", desc: "Device '/nowhere' not found" } });
  });
});
