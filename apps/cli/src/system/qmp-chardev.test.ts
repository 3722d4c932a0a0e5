/**
 * -qmp specs QEMU refuses, with QEMU 11.1's messages (system/vl.c
 * monitor_parse, chardev/char.c qemu_chr_parse_compat, chardev/char-socket.c
 * qemu_chr_parse_socket / qmp_chardev_validate_socket, util/qemu-sockets.c),
 * and the ones irqlab refuses. Each case is one in-process command run.
 */

import { mkdtempSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { runSystem } from "./run-system.js";

const P = "irqlab-system-aarch64";

async function sys(argv: readonly string[]) {
  let out = "";
  let err = "";
  const code = await runSystem("aarch64", ["-M", "virt", ...argv], { out: (s) => (out += s), err: (s) => (err += s) });
  return { code, out, err };
}

const dir = mkdtempSync(join(tmpdir(), "irqlab-qmp-spec-"));

describe("-qmp specs QEMU refuses at the option", () => {
  test.each([
    ["foo", `${P}: -qmp foo: 'foo' is not a valid char driver\n${P}: -qmp foo: parse error: foo\n`],
    // sscanf("%64[^:]:%32[^,]") needs a colon; the ":%32[^,]" fallback needs a leading one.
    ["tcp:4444", `${P}: -qmp tcp:4444: parse error: tcp:4444\n`],
    ["unix:/tmp/q.sock,bogus=1", `${P}: -qmp unix:/tmp/q.sock,bogus=1: Invalid parameter 'bogus'\n${P}: -qmp unix:/tmp/q.sock,bogus=1: parse error: unix:/tmp/q.sock,bogus=1\n`],
    [
      "tcp:127.0.0.1:4444,server=maybe",
      `${P}: -qmp tcp:127.0.0.1:4444,server=maybe: Parameter 'server' expects 'on' or 'off'\n${P}: -qmp tcp:127.0.0.1:4444,server=maybe: parse error: tcp:127.0.0.1:4444,server=maybe\n`,
    ],
    ["unix:/tmp/q.sock,server=on,reconnect=1", `${P}: -qmp unix:/tmp/q.sock,server=on,reconnect=1: 'reconnect' option is incompatible with socket in server listen mode\n`],
    [
      "unix:/tmp/q.sock,wait=on",
      `${P}: -qmp unix:/tmp/q.sock,wait=on: warning: 'wait' option is deprecated with socket in client connect mode\n${P}: -qmp unix:/tmp/q.sock,wait=on: 'wait' option is incompatible with socket in client connect mode\n`,
    ],
    ["unix:/tmp/q.sock,host=h,server=on", `${P}: -qmp unix:/tmp/q.sock,host=h,server=on: Exactly one of 'path', 'fd' or 'host' required\n`],
    ["unix:/tmp/q.sock,server=on,tls-creds=tls0", `${P}: -qmp unix:/tmp/q.sock,server=on,tls-creds=tls0: No TLS credentials with id 'tls0'\n`],
    ["chardev:mon0", `${P}: -qmp chardev:mon0: chardev "mon0" not found\n`],
  ])("-qmp %s", async (spec, stderr) => {
    const r = await sys(["-qmp", spec]);
    expect(r.err).toBe(stderr);
    expect(r.code).toBe(1);
  });

  test("two monitors on stdio: the second chardev cannot use it", async () => {
    const r = await sys(["-qmp", "stdio", "-qmp", "stdio"]);
    expect(r.err).toBe(`${P}: -qmp stdio: cannot use stdio by multiple character devices\n`);
    expect(r.code).toBe(1);
  });

  test("-qmp stdio with -nographic: the serial port's stdio is refused as QEMU refuses it", async () => {
    const r = await sys(["-nographic", "-qmp", "stdio"]);
    expect(r.err).toBe(`${P}: cannot use stdio by multiple character devices\n${P}: could not connect serial device to character backend 'stdio'\n`);
    expect(r.code).toBe(1);
  });

  test("backends irqlab does not offer a monitor get irqlab's message", async () => {
    for (const spec of ["telnet:127.0.0.1:4444,server=on", "mon:stdio", "file:/tmp/x", "pty"]) {
      const r = await sys(["-qmp", spec]);
      expect(r.err).toContain(`${P}: -qmp ${spec}: irqlab does not model the character backend '${spec}' for a monitor\n`);
      expect(r.code).toBe(1);
    }
    const fd = await sys(["-qmp", "unix:/tmp/q.sock,server=on,logfile=/tmp/log"]);
    expect(fd.err).toContain("irqlab does not model 'logfile' on a monitor's socket");
  });

  test("-pace and -slice take positive values", async () => {
    expect((await sys(["-pace", "0"])).err).toBe(`${P}: -pace 0: Parameter 'pace' expects a positive number (virtual ns per wall-clock ns)\n`);
    expect((await sys(["--slice", "5"])).err).toContain(`${P}: --slice 5: Parameter 'slice' expects a duration\n`);
  });
});

describe("-qmp chardevs that cannot be created", () => {
  test("a Unix socket in a directory that does not exist", async () => {
    const path = join(dir, "missing", "q.sock");
    const r = await sys(["-qmp", `unix:${path},server=on,wait=off`]);
    expect(r.err).toBe(`${P}: -qmp unix:${path},server=on,wait=off: Failed to bind socket to ${path}: No such file or directory\n`);
    expect(r.code).toBe(1);
  });

  test("a TCP port in use", async () => {
    const other = createServer();
    await new Promise<void>((resolve) => other.listen(0, "127.0.0.1", resolve));
    const port = (other.address() as { port: number }).port;
    try {
      const spec = `tcp:127.0.0.1:${String(port)},server=on,wait=off`;
      const r = await sys(["-qmp", spec]);
      expect(r.err).toBe(`${P}: -qmp ${spec}: Failed to find an available port: Address already in use\n`);
      expect(r.code).toBe(1);
    } finally {
      await new Promise((resolve) => other.close(resolve));
    }
  });

  test("a client with nobody listening", async () => {
    const path = join(dir, "nobody.sock");
    const r = await sys(["-qmp", `unix:${path}`]);
    expect(r.err).toBe(`${P}: -qmp unix:${path}: Failed to connect to '${path}': No such file or directory\n`);
    expect(r.code).toBe(1);
  });

  test("a Unix socket path longer than sun_path", async () => {
    const path = `/tmp/${"x".repeat(110)}`;
    const r = await sys(["-qmp", `unix:${path},server=on,wait=off`]);
    expect(r.err).toBe(`${P}: -qmp unix:${path},server=on,wait=off: UNIX socket path '${path}' is too long\nPath must be less than 108 bytes\n`);
  });

  test("-S without -qmp still cannot start", async () => {
    const r = await sys(["-S"]);
    expect(r.code).toBe(1);
    expect(r.err).toContain("nothing could start it");
  });
});
