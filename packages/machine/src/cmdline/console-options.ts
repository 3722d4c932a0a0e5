/**
 * The console options: -display, -nographic, -serial and -nodefaults, as
 * system/vl.c resolves them for a build with no graphical user interface
 * (irqlab has none): parse_display, qemu_disable_default_devices,
 * qemu_create_default_devices, serial_parse, and chardev/char.c
 * qemu_chr_parse_compat for the backend names.
 *
 * - -display takes "none" (and "default", which becomes none here); any
 *   other type is "Parameter 'type' does not accept value 'gtk'", as in a
 *   QEMU built without that UI; gl= other than off is "OpenGL support was
 *   not enabled in this build of QEMU".
 * - Without -serial, the default serial port goes to "mon:stdio" with
 *   -nographic (or "stdio" when the monitor was moved away), and otherwise
 *   to the display's text console, which a build without a display lacks:
 *   "null", so the guest's console output is discarded (use -nographic or
 *   -serial stdio). -nodefaults removes the default serial port.
 * - With -nographic and a -serial, the default (HMP) monitor takes stdio,
 *   so "-serial stdio" is "cannot use stdio by multiple character devices".
 *
 * irqlab writes a serial console to stdout or nowhere: it accepts stdio,
 * mon:stdio (the HMP monitor part is not modelled), null and none, and
 * refuses QEMU's other character backends (vc, pty, file:, tcp:, ...).
 */

import type { SerialBackend } from "../config/machine-config.js";
import { QapiError, type QemuReporter } from "./qemu-error.js";
import { isHelpOption } from "./cutils.js";
import { keyvalParse } from "./keyval.js";
import { KeyvalVisitor } from "./keyval-visitor.js";

/** The display settings that matter to irqlab. */
export interface DisplayState {
  /** "default" until -display or -nographic chooses. */
  type: "default" | "none";
  /** DisplayGLMode; anything but "off" fails later (no OpenGL in this build). */
  gl: "off" | "on" | "core" | "es";
}

/** qemu_display_help() for a build whose only display is none. */
export const DISPLAY_HELP =
  "Available display backend types:\nnone\n\n" +
  "Some display backends support suboptions, which can be set with\n" +
  "   -display backend,option=value,option=value...\n" +
  "For a short list of the suboptions for each display, see the top-level -help output; more detail is in the documentation.\n";

/** vl.c parse_display() → parse_display_qapi(): the DisplayOptions visit. Returns "help" for -display help. */
export function parseDisplay(arg: string, dpy: DisplayState): "help" | undefined {
  if (isHelpOption(arg)) return "help";
  if (arg.startsWith("{")) throw new QapiError("irqlab does not take JSON for -display");
  // qobject_input_visitor_new_str(str, "type"): keyval with implied "type", no help.
  const { dict } = keyvalParse(arg, "type", false);
  const v = new KeyvalVisitor(dict);
  v.startStruct(undefined);
  const type = v.enumeration("type", ["default", "none"] as const);
  for (const m of ["full-screen", "window-close", "show-cursor"]) {
    if (v.optional(m)) v.bool(m);
  }
  const gl = v.optional("gl") ? v.enumeration("gl", ["off", "on", "core", "es"] as const) : undefined;
  v.checkStruct();
  v.endStruct();
  dpy.type = type;
  if (gl !== undefined) dpy.gl = gl;
  return undefined;
}

/** One -serial as given, with its location (vl.c add_device_config). */
export interface SerialArg {
  readonly devname: string;
  readonly location: string | undefined;
}

/** The state qemu_create_default_devices and serial_parse read. */
export interface ConsoleInputs {
  readonly serials: readonly SerialArg[];
  readonly nographic: boolean;
  readonly hasDefaults: boolean;
  /** default_serial: no -serial was given. */
  readonly defaultSerial: boolean;
  /** default_monitor: no -monitor/-qmp/-mon and no "mon:" serial. */
  readonly defaultMonitor: boolean;
  /** Whether something else (an extension's chardev) already took stdio. */
  readonly stdioTaken: boolean;
}

/** The character backends QEMU knows by name or prefix (qemu_chr_parse_compat). */
const QEMU_CHAR_NAMES = ["null", "pty", "msmouse", "wctablet", "braille", "testdev", "stdio", "con:"];
const QEMU_CHAR_PREFIXES = ["vc", "COM", "file:", "pipe:", "pty:", "tcp:", "telnet:", "tn3270:", "websocket:", "udp:", "unix:", "/dev/", "chardev:"];

/**
 * qemu_create_default_devices() + serial_parse() for every serial port:
 * the backends, index by index (serial_hd(i)). Errors are reported at the
 * -serial they concern.
 */
export function resolveSerials(inp: ConsoleInputs, reporter: QemuReporter): SerialBackend[] {
  const defaultSerial = inp.defaultSerial && inp.hasDefaults;
  const defaultMonitor = inp.defaultMonitor && inp.hasDefaults;
  const serials: SerialArg[] = [...inp.serials];
  let stdioInUse = inp.stdioTaken;
  if (inp.nographic) {
    if (defaultSerial && defaultMonitor) {
      serials.push({ devname: "mon:stdio", location: undefined });
    } else {
      if (defaultSerial) serials.push({ devname: "stdio", location: undefined });
      // monitor_parse("stdio", "readline"): the HMP monitor's chardev, created before the serial ports.
      if (defaultMonitor) stdioInUse = true;
    }
  } else if (defaultSerial) {
    // qemu_display_get_vc() is NULL without a display: the default serial port goes nowhere.
    serials.push({ devname: "null", location: undefined });
  }

  const out: SerialBackend[] = [];
  for (const s of serials) {
    reporter.location = s.location;
    const dev = s.devname;
    if (dev === "none") {
      out.push("none");
      continue;
    }
    const base = dev.startsWith("mon:") ? dev.slice(4) : dev;
    if (base === "stdio") {
      if (stdioInUse) {
        reporter.report("cannot use stdio by multiple character devices");
        reporter.fatal(`could not connect serial device to character backend '${dev}'`);
      }
      stdioInUse = true;
      out.push(dev === "stdio" ? "stdio" : "mon:stdio");
    } else if (base === "null") {
      out.push("null");
    } else if (QEMU_CHAR_NAMES.includes(base) || QEMU_CHAR_PREFIXES.some((p) => base.startsWith(p))) {
      reporter.fatal(
        `irqlab does not model the character backend '${dev}'`,
        "irqlab's serial console can go to stdio, mon:stdio, null or none.\n",
      );
    } else {
      reporter.report(`'${base}' is not a valid char driver`);
      reporter.fatal(`could not connect serial device to character backend '${dev}'`);
    }
  }
  reporter.location = undefined;
  return out;
}
