/**
 * QMP on the running command: real Unix and TCP sockets on this host, a
 * client as a management application would write it (test/qmp-client.ts),
 * the live loop underneath. Each test starts runSystem in-process, talks to
 * it, ends it with `quit` or a guest power-off, and checks the exit status
 * and that the socket files are gone. Every wait is bounded.
 */

import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { createServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { HELLO_LINE } from "@irqlab/guest";
import { describe, expect, test } from "vitest";
import { QmpTestClient, waitForPath, type QmpMessage } from "../../test/qmp-client.js";
import { runSystem } from "./run-system.js";

const dir = mkdtempSync(join(tmpdir(), "irqlab-qmp-live-"));

/** A guest that computes forever (1 us at a time) on the boot CPU. */
const SPIN = join(dir, "spin.mjs");
writeFileSync(SPIN, "export default { *main() { for (;;) yield { kind: 'compute', ns: 1000 }; } };\n");

/** The command, started in-process; `done` resolves to its status, bounded. */
function start(argv: readonly string[], stdin?: PassThrough) {
  const io = { out: "", err: "" };
  const status = runSystem("aarch64", ["-M", "virt", ...argv], {
    out: (s) => (io.out += s),
    err: (s) => (io.err += s),
    ...(stdin === undefined ? {} : { stdin }),
  });
  const done = Promise.race([
    status,
    new Promise<number>((_, reject) => setTimeout(() => { reject(new Error(`the command did not end; stderr: ${io.err}`)); }, 6000)),
  ]);
  return { io, done };
}

/** Waits (bounded) until `text()` matches `re`. */
async function until(text: () => string, re: RegExp): Promise<RegExpExecArray> {
  const deadline = Date.now() + 4000;
  for (;;) {
    const m = re.exec(text());
    if (m !== null) return m;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${String(re)} in ${JSON.stringify(text())}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const ret = (m: QmpMessage) => m.return;

describe("QMP on a Unix socket", () => {
  test("greeting, negotiation, query-status, -S then cont, stop/cont with events, quit", async () => {
    const path = join(dir, "unix-a.sock");
    const cmd = start(["-S", "-kernel", SPIN, "-qmp", `unix:${path},server=on,wait=off`]);
    await waitForPath(path);
    const c = await QmpTestClient.connect(path);
    const greeting = (await c.greeting()).QMP as { version: { qemu: { major: number } }; capabilities: string[] };
    expect(greeting.version.qemu.major).toBe(11);
    // A socket monitor runs in QEMU's I/O thread and offers out-of-band execution.
    expect(greeting.capabilities).toEqual(["oob"]);
    expect(await c.execute("query-status")).toMatchObject({ error: { class: "CommandNotFound", desc: "Expecting capabilities negotiation with 'qmp_capabilities'" } });
    expect(ret(await c.execute("qmp_capabilities"))).toEqual({});
    expect(ret(await c.execute("query-status"))).toEqual({ running: false, status: "prelaunch" });

    expect(ret(await c.execute("cont"))).toEqual({});
    await c.event("RESUME");
    expect(ret(await c.execute("query-status"))).toEqual({ running: true, status: "running" });

    const mark = c.messages.length;
    expect(ret(await c.execute("stop"))).toEqual({});
    const stop = await c.event("STOP", mark);
    expect(ret(await c.execute("query-status"))).toEqual({ running: false, status: "paused" });
    // Paused: no virtual time passes, however long the wall clock runs.
    await new Promise((r) => setTimeout(r, 50));
    const mark2 = c.messages.length;
    expect(ret(await c.execute("cont"))).toEqual({});
    const resume = await c.event("RESUME", mark2);
    expect(resume.timestamp).toEqual(stop.timestamp);

    const mark3 = c.messages.length;
    expect(ret(await c.execute("quit"))).toEqual({});
    expect((await c.event("SHUTDOWN", mark3)).data).toEqual({ guest: false, reason: "host-qmp-quit" });
    await c.waitClosed();
    expect(await cmd.done).toBe(0);
    expect(existsSync(path)).toBe(false);
  });

  test("-S, cont: the guest runs to its power-off, which ends the command with 0", async () => {
    const path = join(dir, "unix-b.sock");
    const cmd = start(["-S", "-nographic", "-kernel", "irqlab:hello", "-qmp", `unix:${path},server,nowait`]);
    await waitForPath(path);
    const c = await QmpTestClient.connect(path);
    await c.greeting();
    await c.execute("qmp_capabilities");
    expect(cmd.io.out).toBe("");
    await c.execute("cont");
    expect((await c.event("SHUTDOWN")).data).toEqual({ guest: true, reason: "guest-shutdown" });
    await c.waitClosed();
    expect(await cmd.done).toBe(0);
    expect(cmd.io.out.replaceAll("\r\n", "\n")).toContain(HELLO_LINE);
    // The legacy flags "server" and "nowait" are taken without a word (qemu_opts_do_parse does not warn).
    expect(cmd.io.err).toBe("");
  });

  test("a client that disconnects in the middle of a command leaves the monitor to the next one", async () => {
    const path = join(dir, "unix-c.sock");
    const cmd = start(["-qmp", `unix:${path},server=on,wait=off`]);
    await waitForPath(path);
    const a = await QmpTestClient.connect(path);
    await a.greeting();
    await a.execute("qmp_capabilities");
    a.write('{"execute": "query-st');
    a.destroy();
    const b = await QmpTestClient.connect(path);
    await b.greeting();
    // A new session: negotiation again, and the half command of the old one is gone.
    expect(await b.execute("query-status")).toMatchObject({ error: { class: "CommandNotFound" } });
    await b.execute("qmp_capabilities");
    expect(ret(await b.execute("query-status"))).toMatchObject({ status: "running" });
    await b.execute("quit");
    await b.waitClosed();
    expect(await cmd.done).toBe(0);
  });
});

describe("QMP on TCP, several monitors", () => {
  test("wait=on holds the machine until a client connects; two monitors see the same events", async () => {
    const unixPath = join(dir, "multi.sock");
    const cmd = start(["-kernel", SPIN, "-qmp", `unix:${unixPath},server=on,wait=off`, "-qmp", "tcp:127.0.0.1:0,server=on"]);
    const m = await until(() => cmd.io.err, /-qmp tcp:127\.0\.0\.1:0,server=on: info: QEMU waiting for connection on: disconnected:tcp:127\.0\.0\.1:([0-9]+),server=on\n/);
    const port = Number(m[1]);
    expect(port).toBeGreaterThan(0);
    // Nothing is built until the client is there (QEMU blocks in chardev creation).
    const u = await QmpTestClient.connect(unixPath);
    await new Promise((r) => setTimeout(r, 30));
    expect(u.messages).toEqual([]);

    const t = await QmpTestClient.connect(port);
    await t.greeting();
    await u.greeting();
    await t.execute("qmp_capabilities");
    await u.execute("qmp_capabilities");
    expect(ret(await t.execute("query-status"))).toEqual({ running: true, status: "running" });

    // A second client on the Unix socket waits in the backlog while the first is connected.
    const u2 = await QmpTestClient.connect(unixPath);
    const mt = t.messages.length;
    const mu = u.messages.length;
    await u.execute("stop");
    await t.event("STOP", mt);
    await u.event("STOP", mu);
    expect(u2.messages).toEqual([]);
    u.destroy();
    await u2.greeting();
    await u2.execute("qmp_capabilities");
    expect(ret(await u2.execute("query-status"))).toEqual({ running: false, status: "paused" });

    await t.execute("quit");
    await Promise.all([t.waitClosed(), u2.waitClosed()]);
    expect(await cmd.done).toBe(0);
    expect(existsSync(unixPath)).toBe(false);
  });

  test("--until still bounds virtual time; --pace holds it to the wall clock", async () => {
    const path = join(dir, "pace.sock");
    const t0 = performance.now();
    // 2 ms of virtual time at 0.02 virtual ns per wall ns: at least 100 ms of wall time.
    const cmd = start(["-kernel", SPIN, "-qmp", `unix:${path},server=on,wait=off`, "--until", "2ms", "--pace", "0.02"]);
    expect(await cmd.done).toBe(0);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(95);
    expect(cmd.io.err).toContain("irqlab: virtual time limit reached: the run stopped at 2.00 ms of virtual time (-until)\n");
    expect(existsSync(path)).toBe(false);
  });
});

describe("signals", () => {
  test("SIGTERM while the machine runs: QEMU's line, a SHUTDOWN event with reason host-signal, status 0", async () => {
    const path = join(dir, "signal.sock");
    const cmd = start(["-kernel", SPIN, "-qmp", `unix:${path},server=on,wait=off`]);
    await waitForPath(path);
    const c = await QmpTestClient.connect(path);
    await c.greeting();
    await c.execute("qmp_capabilities");
    const before = process.listenerCount("SIGTERM");
    // The handler the command installs, called as Node calls it for a real signal.
    process.emit("SIGTERM", "SIGTERM");
    expect((await c.event("SHUTDOWN")).data).toEqual({ guest: false, reason: "host-signal" });
    expect(await cmd.done).toBe(0);
    expect(cmd.io.err).toContain("irqlab-system-aarch64: terminating on signal 15\n");
    expect(process.listenerCount("SIGTERM")).toBe(before - 1);
  });
});

describe("QMP as a client (server=off, QEMU's default)", () => {
  test("the command connects to a listening management application", async () => {
    const listener = createServer();
    await new Promise<void>((resolve) => listener.listen(0, "127.0.0.1", resolve));
    const port = (listener.address() as { port: number }).port;
    const accepted = new Promise<Socket>((resolve) => listener.once("connection", resolve));
    const cmd = start(["-qmp", `tcp:127.0.0.1:${String(port)}`]);
    const sock = await accepted;
    let text = "";
    sock.setEncoding("utf8");
    sock.on("data", (d: string) => (text += d));
    await until(() => text, /"QMP"/);
    sock.write('{"execute": "qmp_capabilities"}\r\n{"execute": "quit"}\r\n');
    expect(await cmd.done).toBe(0);
    await until(() => text, /"SHUTDOWN"/);
    sock.destroy();
    await new Promise((resolve) => listener.close(resolve));
  });
});

describe("QMP on stdio", () => {
  test("the monitor reads the injected stdin and writes to out; quit ends the command", async () => {
    const stdin = new PassThrough();
    const cmd = start(["-S", "-qmp", "stdio"], stdin);
    const lines = (): QmpMessage[] => cmd.io.out.split("\r\n").filter((l) => l !== "").map((l) => JSON.parse(l) as QmpMessage);
    await until(() => cmd.io.out, /"QMP"/);
    // stdio is not a socket: no out-of-band capability (use_io_thread is false).
    expect((lines()[0]!.QMP as { capabilities: string[] }).capabilities).toEqual([]);
    stdin.write('{"execute": "qmp_capabilities"}\n{"execute": "query-status", "id": 7}\n');
    await until(() => cmd.io.out, /"id": 7/);
    expect(lines()[2]).toEqual({ return: { running: false, status: "prelaunch" }, id: 7 });
    stdin.write('{"execute": "quit"}\n');
    expect(await cmd.done).toBe(0);
    expect(lines().some((l) => l.event === "SHUTDOWN")).toBe(true);
  });

  test("when stdin ends and nothing else can reach a paused machine, the command ends as without -qmp", async () => {
    const stdin = new PassThrough();
    const cmd = start(["-S", "-qmp", "stdio"], stdin);
    await until(() => cmd.io.out, /"QMP"/);
    stdin.end();
    expect(await cmd.done).toBe(1);
    expect(cmd.io.err).toContain("irqlab: the VM is paused and nothing can resume it (no monitor can be reached any more)\n");
  });

  test("-qmp null: a monitor nobody can reach", async () => {
    const cmd = start(["-S", "-qmp", "null"]);
    expect(await cmd.done).toBe(1);
    expect(cmd.io.err).toContain("nothing can resume it (no monitor can be reached any more)");
  });
});
