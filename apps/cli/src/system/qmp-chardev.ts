/**
 * `-qmp DEV`: the character device a QMP monitor talks on, parsed as
 * QEMU 11.1 parses it.
 *
 * system/vl.c monitor_parse() turns "chardev:ID" into a reference to a
 * `-chardev` and anything else into a chardev labelled "compat_monitorN"
 * through chardev/char.c qemu_chr_parse_compat(): "stdio" and "null" are
 * backends by name, "tcp:[HOST]:PORT[,opts]" fills host and port with
 * sscanf("%64[^:]:%32[^,]") and parses the rest with qemu_opts_do_parse()
 * (no warning for the flags "server" and "nowait"), "unix:PATH[,opts]"
 * parses everything with "path" as the implied key. A spec that matches no
 * form is "'X' is not a valid char driver", and every failure ends with
 * monitor_parse's "parse error: X".
 *
 * The socket backend's checks follow chardev/char-socket.c
 * qemu_chr_parse_socket() and qmp_chardev_validate_socket(): exactly one of
 * path, fd and host; `server` defaults to off (a client that connects out)
 * and `wait` to on when `server` is on; `wait` with a client is deprecated
 * and `wait=on` refused; `reconnect` is refused for a server.
 *
 * irqlab takes the backends a QMP client can reach: stdio, null, and Unix
 * or TCP sockets, as server or client. Telnet, websocket, TLS (there are no
 * -object credentials), fd passing, multiplexing ("mon:", mux=on), log
 * files, reconnecting clients and the other backends are refused with a
 * message that starts with "irqlab" (QEMU's own text where QEMU refuses).
 */

import { qemuOptsDoParse, type CommandLineExtension, type ExtensionContext, type QemuOpt, type QemuOptsListDef } from "@irqlab/machine";

/** Where a socket chardev listens or connects (SocketAddress: unix or inet). */
export type QmpSocketAddress =
  | { readonly type: "unix"; readonly path: string; readonly abstract: boolean }
  | {
      readonly type: "inet";
      /** The host as given; "" means every address (getaddrinfo(NULL, AI_PASSIVE)). */
      readonly host: string;
      readonly port: string;
      /** `to=`: the last port a server tries when the earlier ones are in use. */
      readonly to?: number;
      readonly ipv4?: boolean;
      readonly ipv6?: boolean;
    };

/** A socket chardev (chardev/char-socket.c ChardevSocket, as irqlab keeps it). */
export interface QmpSocketBackend {
  readonly backend: "socket";
  readonly addr: QmpSocketAddress;
  /** server=on: listen for one client at a time; off: connect to a listening client. */
  readonly server: boolean;
  /** wait=on (a server's default): QEMU does not go on until a client has connected. */
  readonly wait: boolean;
  /** nodelay=on / delay=off: TCP_NODELAY. */
  readonly nodelay: boolean;
}

/** One QMP monitor's character device. */
export type QmpChardev = {
  /** The chardev id ("compat_monitor0"). */
  readonly label: string;
  /** "-qmp ARG", where QEMU reports what goes wrong with it. */
  readonly location: string | undefined;
} & ({ readonly backend: "stdio" | "null" } | QmpSocketBackend);

const S = "str" as const;
const B = "bool" as const;
const N = "num" as const;

/** chardev/char.c qemu_chardev_opts (QEMU 11.1, Linux build). */
export const CHARDEV_OPTS: QemuOptsListDef = {
  name: "chardev",
  impliedOptName: "backend",
  mergeLists: false,
  desc: [
    { name: "backend", type: S }, { name: "path", type: S }, { name: "input-path", type: S }, { name: "host", type: S },
    { name: "port", type: S }, { name: "fd", type: S }, { name: "localaddr", type: S }, { name: "localport", type: S },
    { name: "to", type: N }, { name: "ipv4", type: B }, { name: "ipv6", type: B }, { name: "wait", type: B },
    { name: "server", type: B }, { name: "delay", type: B }, { name: "nodelay", type: B }, { name: "reconnect", type: N },
    { name: "reconnect-ms", type: N }, { name: "telnet", type: B }, { name: "tn3270", type: B }, { name: "tls-creds", type: S },
    { name: "tls-authz", type: S }, { name: "websocket", type: B }, { name: "width", type: N }, { name: "height", type: N },
    { name: "cols", type: N }, { name: "rows", type: N }, { name: "mux", type: B }, { name: "signal", type: B },
    { name: "name", type: S }, { name: "debug", type: N }, { name: "size", type: "size" }, { name: "chardev", type: S },
    { name: "chardevs.0", type: S }, { name: "chardevs.1", type: S }, { name: "chardevs.2", type: S }, { name: "chardevs.3", type: S },
    { name: "append", type: B }, { name: "logfile", type: S }, { name: "logappend", type: B }, { name: "mouse", type: B },
    { name: "clipboard", type: B }, { name: "tight", type: B }, { name: "abstract", type: B },
  ],
};

/** The backends qemu_chr_parse_compat knows by name or prefix, which irqlab does not offer to a monitor. */
const OTHER_NAMES = ["pty", "msmouse", "wctablet", "braille", "testdev", "con:"];
const OTHER_PREFIXES = ["vc", "COM", "file:", "pipe:", "pty:", "udp:", "/dev/", "telnet:", "tn3270:", "websocket:"];
const IRQLAB_HINT = "irqlab's QMP monitor can be on unix:PATH, tcp:[HOST]:PORT (with server=on or as a client), stdio or null.\n";

/** The options of a compat chardev, as qemu_opt_get() reads them (the last one given wins). */
class ChardevOpts {
  readonly #opts: QemuOpt[] = [];

  set(name: string, str: string): void {
    this.#opts.push({ name, str });
  }
  add(opts: readonly QemuOpt[]): void {
    this.#opts.push(...opts);
  }
  get(name: string): string | undefined {
    for (let i = this.#opts.length - 1; i >= 0; i--) if (this.#opts[i]!.name === name) return this.#opts[i]!.str;
    return undefined;
  }
  /** qemu_opt_get_bool(): the parsed value, or `dflt`. */
  bool(name: string, dflt: boolean): boolean {
    for (let i = this.#opts.length - 1; i >= 0; i--) {
      const o = this.#opts[i]!;
      if (o.name === name) return typeof o.value === "boolean" ? o.value : o.str === "on";
    }
    return dflt;
  }
  /** qemu_opt_get_number(). */
  num(name: string): number | undefined {
    for (let i = this.#opts.length - 1; i >= 0; i--) {
      const o = this.#opts[i]!;
      if (o.name === name) return typeof o.value === "bigint" ? Number(o.value) : undefined;
    }
    return undefined;
  }
}

/** sscanf(p, "%64[^:]:%32[^,]%n") and its fallback ":%32[^,]%n": host, port and where the options start. */
function scanHostPort(p: string): { host: string; port: string; pos: number } | undefined {
  const hp = /^([^:]{1,64}):([^,]{1,32})/.exec(p);
  if (hp !== null) return { host: hp[1]!, port: hp[2]!, pos: hp[0].length };
  const po = /^:([^,]{1,32})/.exec(p);
  if (po !== null) return { host: "", port: po[1]!, pos: po[0].length };
  return undefined;
}

/** qemu_chr_parse_compat() for a monitor (permit_mux_mon); errors go through `ctx`. */
function parseCompat(arg: string, ctx: ExtensionContext): ChardevOpts {
  const parseError = (): never => ctx.fail(`parse error: ${arg}`);
  const opts = new ChardevOpts();
  const irqlab = (): never => ctx.fail(`irqlab does not model the character backend '${arg}' for a monitor`, IRQLAB_HINT);
  if (arg.startsWith("mon:")) irqlab();
  if (arg === "null" || arg === "stdio") {
    opts.set("backend", arg);
    return opts;
  }
  if (OTHER_NAMES.includes(arg) || OTHER_PREFIXES.some((p) => arg.startsWith(p))) irqlab();
  const doParse = (params: string, firstname: string | undefined): void => {
    try {
      opts.add(qemuOptsDoParse(CHARDEV_OPTS, params, firstname));
    } catch (e) {
      // error_report_err(local_err), then monitor_parse's "parse error".
      const err = e as Error & { hint?: string };
      ctx.report(err.message, err.hint);
      parseError();
    }
  };
  if (arg.startsWith("tcp:")) {
    const p = arg.slice(4);
    const hp = scanHostPort(p) ?? parseError();
    opts.set("backend", "socket");
    opts.set("host", hp.host);
    opts.set("port", hp.port);
    if (p[hp.pos] === ",") doParse(p.slice(hp.pos + 1), undefined);
    return opts;
  }
  if (arg.startsWith("unix:")) {
    opts.set("backend", "socket");
    doParse(arg.slice(5), "path");
    return opts;
  }
  ctx.report(`'${arg}' is not a valid char driver`);
  return parseError();
}

/** qemu_chr_parse_socket() + qmp_chardev_validate_socket(), for the options irqlab models. */
function socketChardev(o: ChardevOpts, ctx: ExtensionContext): QmpSocketBackend {
  const path = o.get("path");
  const host = o.get("host");
  const port = o.get("port");
  const fd = o.get("fd");
  if ((path !== undefined ? 1 : 0) + (fd !== undefined ? 1 : 0) + (host !== undefined ? 1 : 0) !== 1) {
    ctx.fail("Exactly one of 'path', 'fd' or 'host' required");
  }
  if (host !== undefined && port === undefined) ctx.fail("chardev: socket: no port given");
  const server = o.bool("server", false);
  const hasWait = o.get("wait") !== undefined || server;
  const wait = o.bool("wait", true);
  const tlsCreds = o.get("tls-creds");
  // qmp_chardev_open_socket: the credentials are an -object, and irqlab has none.
  if (tlsCreds !== undefined) ctx.fail(`No TLS credentials with id '${tlsCreds}'`);
  if (o.get("tls-authz") !== undefined) ctx.fail("'tls_authz' option requires 'tls_creds' option");
  const reconnect = o.get("reconnect") !== undefined || o.get("reconnect-ms") !== undefined;
  if (server) {
    if (reconnect) ctx.fail("'reconnect' option is incompatible with socket in server listen mode");
  } else {
    if (o.bool("websocket", false)) ctx.fail("Websocket client is not implemented");
    if (hasWait) {
      ctx.warn("'wait' option is deprecated with socket in client connect mode");
      if (wait) ctx.fail("'wait' option is incompatible with socket in client connect mode");
    }
  }
  const refuse = (what: string): never => ctx.fail(`irqlab does not model ${what} on a monitor's socket`, IRQLAB_HINT);
  if (fd !== undefined) refuse("'fd' (passing a socket descriptor)");
  for (const opt of ["telnet", "tn3270", "websocket", "mux"]) if (o.bool(opt, false)) refuse(`'${opt}'`);
  if (o.get("logfile") !== undefined) refuse("'logfile'");
  if (reconnect) refuse("'reconnect' (a client that reconnects)");
  const nodelay = !o.bool("delay", true) || o.bool("nodelay", false);
  if (path !== undefined) {
    const abstract = o.bool("abstract", false);
    if (abstract && !o.bool("tight", true)) refuse("'tight=off' (a padded abstract socket name)");
    if (path === "" && !abstract) refuse("an empty socket path (QEMU picks a name in $TMPDIR)");
    return { backend: "socket", addr: { type: "unix", path, abstract }, server, wait: hasWait ? wait : false, nodelay };
  }
  const to = o.num("to");
  const ipv4 = o.get("ipv4") === undefined ? undefined : o.bool("ipv4", false);
  const ipv6 = o.get("ipv6") === undefined ? undefined : o.bool("ipv6", false);
  const addr: QmpSocketAddress = {
    type: "inet",
    host: host!,
    port: port!,
    ...(to === undefined ? {} : { to }),
    ...(ipv4 === undefined ? {} : { ipv4 }),
    ...(ipv6 === undefined ? {} : { ipv6 }),
  };
  return { backend: "socket", addr, server, wait: hasWait ? wait : false, nodelay };
}

/** monitor_parse(): one -qmp argument (`stdioInUse`: an earlier monitor took stdio). */
function monitorParse(arg: string, index: number, stdioInUse: boolean, ctx: ExtensionContext): QmpChardev {
  if (arg.startsWith("chardev:")) {
    // The label is a char[32]; irqlab has no -chardev, so monitor_init() finds no such chardev.
    ctx.fail(`chardev "${arg.slice(8, 8 + 31)}" not found`);
  }
  const base = { label: `compat_monitor${String(index)}`, location: ctx.location };
  const opts = parseCompat(arg, ctx);
  const backend = opts.get("backend");
  if (backend === "stdio") {
    // chardev/char-stdio.c qemu_chr_open_stdio(): stdio_in_use.
    if (stdioInUse) ctx.fail("cannot use stdio by multiple character devices");
    ctx.useStdio();
    return { ...base, backend: "stdio" };
  }
  if (backend === "null") return { ...base, backend: "null" };
  return { ...base, ...socketChardev(opts, ctx) };
}

/** What the -qmp options leave for the run: the monitors' chardevs, in command-line order. */
export interface QmpOptions {
  readonly chardevs: QmpChardev[];
}

/**
 * The parser extension for `-qmp DEV`: each occurrence adds a chardev to
 * `out` and, as in vl.c, turns off the default monitor.
 */
export function qmpExtension(out: QmpOptions): CommandLineExtension {
  return {
    name: "qmp",
    hasArg: true,
    help:
      "-qmp dev        like -monitor but opens in 'control' mode\n" +
      "                dev: unix:PATH or tcp:[HOST]:PORT with [,server=on|off][,wait=on|off], stdio or null\n",
    parse: (arg, ctx) => {
      ctx.disableDefaultMonitor();
      const stdioInUse = out.chardevs.some((c) => c.backend === "stdio");
      out.chardevs.push(monitorParse(arg!, out.chardevs.length, stdioInUse, ctx));
    },
  };
}
