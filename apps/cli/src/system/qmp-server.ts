/**
 * The character devices of the QMP monitors, on real sockets and stdio.
 *
 * A socket chardev (chardev/char-socket.c) is either a server with one
 * client at a time, or a client that connects out once:
 *
 * - a server binds (util/qemu-sockets.c inet_listen_saddr /
 *   unix_listen_saddr: a stale Unix socket file is unlinked first; a TCP
 *   `to=` range is tried port by port) and, with wait=on, blocks before the
 *   machine is built until a client connects (tcp_chr_wait_connected, with
 *   the info line "QEMU waiting for connection on: …"). While a client is
 *   connected the listener accepts nobody else (tcp_chr_new_client clears
 *   the listener's callback): a second client's connect() completes in the
 *   kernel but it gets no greeting until the first one has gone;
 * - a client (server=off) connects at creation (tcp_chr_connect_client_sync)
 *   and the command fails when nobody listens.
 *
 * Each connection becomes one session of the monitor; its bytes go to the
 * session as they arrive, the session's replies and events go back on the
 * same socket, and a disconnect closes the session (monitor_qmp_event
 * CHR_EVENT_CLOSED). The chardevs are opened before the machine exists
 * (qemu_create_early_backends); sessions start when a monitor is attached.
 * Everything is closed, and Unix socket files removed, by {@link QmpChardevEndpoint.close}.
 */

import { createConnection, createServer, type Server, type Socket } from "node:net";
import { existsSync, unlinkSync } from "node:fs";
import { dirname } from "node:path";
import type { QmpChardev, QmpSocketAddress, QmpSocketBackend } from "./qmp-chardev.js";
import { errorCode, strerror } from "./host-errors.js";

/** What a chardev hands its connections to (the QMP monitor, seen from the transport). */
export interface QmpSessionFactory {
  /** A new session; the monitor sends its greeting through `send` at once. */
  connect(send: (text: string) => void): { receive(chunk: string): void; close(): void };
}

/** The input of `-qmp stdio` (process.stdin, or a stream a test writes to). */
export interface QmpInput {
  on(event: "data", listener: (chunk: Buffer | string) => void): unknown;
  on(event: "end", listener: () => void): unknown;
  removeAllListeners(event: "data" | "end"): unknown;
  pause(): unknown;
}

/** A chardev that could not be created: QEMU's message (error_setg), reported at the -qmp option. */
export class ChardevOpenError extends Error {
  readonly hint: string | undefined;
  constructor(text: string, hint?: string) {
    super(text);
    this.name = "ChardevOpenError";
    this.hint = hint;
  }
}

/** sizeof(struct sockaddr_un.sun_path) on Linux. */
const SUN_PATH = 108;

/** gai_strerror() of the resolver failures Node reports. */
const GAI: Readonly<Record<string, string>> = {
  ENOTFOUND: "Name or service not known",
  EAI_AGAIN: "Temporary failure in name resolution",
  EAI_SERVICE: "Servname not supported for ai_socktype",
};

/** One connection and the session it carries. */
interface Connection {
  readonly socket: Socket | undefined;
  session: { receive(chunk: string): void; close(): void } | undefined;
}

/** One monitor's chardev: a socket (server or client), stdio, or null. */
export class QmpChardevEndpoint {
  readonly dev: QmpChardev;
  readonly #wake: () => void;
  readonly #stdin: () => QmpInput;
  readonly #stdout: (text: string) => void;
  #server: Server | undefined;
  #unixPath: string | undefined;
  #boundAddress = "";
  #current: Connection | undefined;
  readonly #queue: Socket[] = [];
  #factory: QmpSessionFactory | undefined;
  #connected: (() => void) | undefined;
  #closed = false;
  #stdinEnded = false;

  /** `io.stdin` is called only for a stdio chardev (reading process.stdin starts it). */
  constructor(dev: QmpChardev, io: { stdin: () => QmpInput; stdout: (text: string) => void; wake: () => void }) {
    this.dev = dev;
    this.#wake = io.wake;
    this.#stdin = io.stdin;
    this.#stdout = io.stdout;
  }

  /** chr->filename while no client is connected ("disconnected:unix:/tmp/q.sock,server=on"). */
  get disconnectedFilename(): string {
    const d = this.dev;
    if (d.backend !== "socket") return d.backend;
    const listen = d.server ? ",server=on" : "";
    if (d.addr.type === "unix") return `disconnected:unix:${d.addr.path}${d.addr.abstract ? ",abstract,tight" : ""}${listen}`;
    return `disconnected:tcp:${this.#boundAddress || `${d.addr.host}:${d.addr.port}`}${listen}`;
  }

  /** Whether a client could still send a command: a listener, a live connection, stdin before its end. */
  get reachable(): boolean {
    if (this.#closed) return false;
    if (this.#server !== undefined) return true;
    if (this.dev.backend === "stdio") return !this.#stdinEnded;
    return this.#current !== undefined;
  }

  /** Whether a server must see a client before QEMU goes on (wait=on). */
  get waits(): boolean {
    return this.dev.backend === "socket" && this.dev.server && this.dev.wait;
  }

  /** The chardev's open(): bind and listen, or connect out. @throws ChardevOpenError */
  async open(): Promise<void> {
    const d = this.dev;
    if (d.backend === "stdio") {
      this.#current = { socket: undefined, session: undefined };
      return;
    }
    if (d.backend !== "socket") return;
    if (d.server) await this.#listen(d);
    else await this.#connectOut(d);
  }

  /** Resolves once a client is connected (tcp_chr_wait_connected). */
  waitConnected(): Promise<void> {
    if (this.#current !== undefined) return Promise.resolve();
    return new Promise((resolve) => {
      this.#connected = resolve;
    });
  }

  /** From now on connections are sessions of `factory` (the monitor exists). */
  attach(factory: QmpSessionFactory): void {
    this.#factory = factory;
    if (this.#current !== undefined) this.#startSession(this.#current);
  }

  /** Closes the connection (after its output is flushed) and the listener; removes a Unix socket file. */
  async close(): Promise<void> {
    this.#closed = true;
    const cur = this.#current;
    this.#current = undefined;
    cur?.session?.close();
    if (this.dev.backend === "stdio") {
      const stdin = this.#stdin();
      stdin.removeAllListeners("data");
      stdin.removeAllListeners("end");
      stdin.pause();
    }
    const pending: Promise<void>[] = [];
    for (const s of [...(cur?.socket === undefined ? [] : [cur.socket]), ...this.#queue.splice(0)]) pending.push(endSocket(s));
    if (this.#server !== undefined) {
      const server = this.#server;
      pending.push(new Promise((resolve) => server.close(() => { resolve(); })));
    }
    await Promise.all(pending);
    if (this.#unixPath !== undefined) removeSocketFile(this.#unixPath);
  }

  async #listen(d: QmpSocketBackend): Promise<void> {
    const server = createServer({ pauseOnConnect: true });
    server.on("connection", (s) => { this.#accept(s); });
    server.on("error", () => undefined);
    if (d.addr.type === "unix") {
      await listenUnix(server, d.addr);
      if (!d.addr.abstract) this.#unixPath = d.addr.path;
    } else {
      const bound = await listenInet(server, d.addr);
      this.#boundAddress = bound;
    }
    this.#server = server;
  }

  async #connectOut(d: QmpSocketBackend): Promise<void> {
    const a = d.addr;
    if (a.type === "unix") checkUnixPath(a);
    const socket = await new Promise<Socket>((resolve, reject) => {
      const s = a.type === "unix" ? createConnection({ path: unixName(a) }) : createConnection({ host: a.host || "localhost", port: portNumber(a) });
      s.once("connect", () => { resolve(s); });
      s.once("error", (e) => {
        // inet_connect_addr / unix_connect_saddr: "Failed to connect to '%s:%s'" / "'%s'".
        const where = a.type === "unix" ? a.path : `${a.host}:${a.port}`;
        const code = errorCode(e);
        if (code !== undefined && code in GAI) reject(new ChardevOpenError(`address resolution failed for ${a.type === "inet" ? `${a.host}:${a.port}` : a.path}: ${GAI[code]!}`));
        else reject(new ChardevOpenError(`Failed to connect to '${where}': ${socketStrerror(e)}`));
      });
    });
    socket.pause();
    this.#adopt(socket);
  }

  #accept(s: Socket): void {
    s.on("error", () => undefined);
    if (this.#closed) {
      s.destroy();
      return;
    }
    if (this.#current !== undefined) {
      // The listener is off while a client is connected: this one waits in the backlog.
      this.#queue.push(s);
      s.once("close", () => {
        const i = this.#queue.indexOf(s);
        if (i >= 0) this.#queue.splice(i, 1);
      });
      return;
    }
    this.#adopt(s);
  }

  #adopt(s: Socket): void {
    s.on("error", () => undefined);
    if (this.dev.backend === "socket" && this.dev.nodelay) s.setNoDelay(true);
    const conn: Connection = { socket: s, session: undefined };
    this.#current = conn;
    s.once("close", () => {
      if (this.#current !== conn) return;
      conn.session?.close();
      this.#current = undefined;
      // tcp_chr_disconnect: the listener takes the next client.
      const next = this.#queue.shift();
      if (next !== undefined && !this.#closed) this.#adopt(next);
      this.#wake();
    });
    this.#connected?.();
    this.#connected = undefined;
    if (this.#factory !== undefined) this.#startSession(conn);
    this.#wake();
  }

  #startSession(conn: Connection): void {
    const factory = this.#factory!;
    const s = conn.socket;
    if (s === undefined) {
      // stdio: the monitor's output is stdout, its input stdin.
      conn.session = factory.connect((text) => { this.#stdout(text); });
      const stdin = this.#stdin();
      stdin.on("data", (chunk) => {
        conn.session?.receive(typeof chunk === "string" ? chunk : chunk.toString("utf8"));
        this.#wake();
      });
      stdin.on("end", () => {
        this.#stdinEnded = true;
        conn.session?.close();
        conn.session = undefined;
        this.#wake();
      });
      return;
    }
    conn.session = factory.connect((text) => {
      if (!s.destroyed && s.writable) s.write(text);
    });
    s.setEncoding("utf8");
    s.on("data", (chunk: string) => {
      conn.session?.receive(chunk);
      this.#wake();
    });
    s.resume();
  }
}

/** The name Node binds: an abstract socket's name starts with a NUL byte. */
function unixName(a: Extract<QmpSocketAddress, { type: "unix" }>): string {
  return a.abstract ? `\0${a.path}` : a.path;
}

function checkUnixPath(a: Extract<QmpSocketAddress, { type: "unix" }>): void {
  const len = Buffer.byteLength(a.path);
  const max = a.abstract ? SUN_PATH - 1 : SUN_PATH;
  if (len > max) throw new ChardevOpenError(`UNIX socket path '${a.path}' is too long`, `Path must be less than ${String(max)} bytes\n`);
}

function portNumber(a: Extract<QmpSocketAddress, { type: "inet" }>): number {
  if (!/^[0-9]+$/.test(a.port) || Number(a.port) > 65535) {
    throw new ChardevOpenError(`address resolution failed for ${a.host}:${a.port}: ${GAI.EAI_SERVICE!}`);
  }
  return Number(a.port);
}

/** strerror() of a socket error (the file errors, plus the network ones). */
function socketStrerror(e: unknown): string {
  const net: Readonly<Record<string, string>> = {
    EADDRINUSE: "Address already in use",
    EADDRNOTAVAIL: "Cannot assign requested address",
    ECONNREFUSED: "Connection refused",
    ENETUNREACH: "Network is unreachable",
    ETIMEDOUT: "Connection timed out",
    EAFNOSUPPORT: "Address family not supported by protocol",
  };
  const code = errorCode(e);
  return (code !== undefined ? net[code] : undefined) ?? strerror(e);
}

function listenOnce(server: Server, options: { path: string } | { host: string; port: number; ipv6Only?: boolean }): Promise<Error | undefined> {
  return new Promise((resolve) => {
    const onError = (e: Error) => { resolve(e); };
    server.once("error", onError);
    server.listen({ ...options, backlog: 1 }, () => {
      server.removeListener("error", onError);
      resolve(undefined);
    });
  });
}

/** unix_listen_saddr(): unlink a stale socket file, bind, listen. */
async function listenUnix(server: Server, a: Extract<QmpSocketAddress, { type: "unix" }>): Promise<void> {
  checkUnixPath(a);
  if (!a.abstract) {
    try {
      unlinkSync(a.path);
    } catch (e) {
      if (errorCode(e) !== "ENOENT") throw new ChardevOpenError(`Failed to unlink socket ${a.path}: ${strerror(e)}`);
    }
  }
  const err = await listenOnce(server, { path: unixName(a) });
  if (err !== undefined) {
    // libuv's uv_pipe_bind() reports ENOENT as EACCES; bind(2), and so QEMU, says ENOENT.
    const enoent = errorCode(err) === "EACCES" && !a.abstract && !existsSync(dirname(a.path));
    throw new ChardevOpenError(`Failed to bind socket to ${a.path}: ${enoent ? strerror({ code: "ENOENT" }) : socketStrerror(err)}`);
  }
}

/** inet_listen_saddr(): the first free port of port..to; returns "HOST:PORT" as getsockname() gives it. */
async function listenInet(server: Server, a: Extract<QmpSocketAddress, { type: "inet" }>): Promise<string> {
  const first = portNumber(a);
  const last = a.to ?? first;
  // getaddrinfo(NULL, port, AI_PASSIVE) lists the IPv4 wildcard first.
  const host = a.host !== "" ? a.host : a.ipv6 === true ? "::" : "0.0.0.0";
  for (let port = first; port <= Math.max(first, last); port++) {
    const err = await listenOnce(server, { host, port, ...(a.ipv6 === true && a.ipv4 === false ? { ipv6Only: true } : {}) });
    if (err === undefined) {
      const addr = server.address();
      if (addr === null || typeof addr === "string") return `${a.host}:${String(port)}`;
      return `${addr.address}:${String(addr.port)}`;
    }
    const code = errorCode(err);
    if (code === "EADDRINUSE") continue;
    if (code !== undefined && code in GAI) throw new ChardevOpenError(`address resolution failed for ${a.host}:${a.port}: ${GAI[code]!}`);
    throw new ChardevOpenError(`Failed to bind socket: ${socketStrerror(err)}`);
  }
  throw new ChardevOpenError(`Failed to find an available port: ${socketStrerror({ code: "EADDRINUSE" })}`);
}

/** Ends a socket after its queued output, waiting (a bounded wall time) for the peer to close. */
function endSocket(s: Socket): Promise<void> {
  return new Promise((resolve) => {
    if (s.destroyed) {
      resolve();
      return;
    }
    const done = () => {
      clearTimeout(timer);
      s.destroy();
      resolve();
    };
    // Unread input would make close() send a reset that can discard the last reply: drain it.
    s.on("data", () => undefined);
    s.resume();
    const timer = setTimeout(done, 1000);
    s.once("close", done);
    s.end();
  });
}

function removeSocketFile(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // Already gone (libuv unlinks a pipe it bound when the server closes).
  }
}
