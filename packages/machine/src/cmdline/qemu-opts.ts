/**
 * QemuOpts, QEMU's older option-group parser (util/qemu-option.c), used by
 * -m, -accel, -device and -name (and irqlab's --host):
 *
 * - "name=value" pairs separated by ','; ",," is a literal comma in a value
 *   (get_opt_value), also in an implied first value;
 * - with permit_abbrev, a first item without '=' is the value of the list's
 *   implied option (implied_opt_name: "size", "accel", "driver", "guest");
 * - any other item without '=' is a boolean flag: "foo" is foo=on and
 *   "nofoo" foo=off, with the deprecation warning qemu_opts_parse_noisily
 *   prints (get_opt_name_value);
 * - "id=..." names the group (opts_parse_id); a merge_lists group (-m, -name)
 *   refuses an id and merges every occurrence into one QemuOpts;
 * - a bare "help"/"?" prints the list's options, unless the list accepts
 *   any option (-accel, -device), where it is just a flag;
 * - option names are checked against the list's descriptions (unless the
 *   list accepts any), values against their type: bool (qapi_bool_parse),
 *   number (qemu_strtou64, base 0), size (qemu_strtosz).
 */

import { QapiError, type QemuReporter } from "./qemu-error.js";
import { ERANGE, idWellformed, isHelpOption, qapiBoolParse, qemuStrtosz, qemuStrtou64 } from "./cutils.js";

/** A QemuOptDesc type (QEMU_OPT_STRING, _BOOL, _NUMBER, _SIZE). */
export type QemuOptType = "str" | "bool" | "num" | "size";

/** One accepted option of a list (QemuOptDesc). */
export interface QemuOptDesc {
  readonly name: string;
  readonly type: QemuOptType;
  readonly help?: string;
}

/** A QemuOptsList's static part. An empty `desc` accepts any option. */
export interface QemuOptsListDef {
  readonly name: string;
  readonly impliedOptName?: string;
  readonly mergeLists: boolean;
  readonly desc: readonly QemuOptDesc[];
}

/** One parsed option (QemuOpt). `value` holds the parsed bool/number/size. */
export interface QemuOpt {
  readonly name: string;
  readonly str: string;
  readonly value?: boolean | bigint;
}

/** One option group (QemuOpts): an id, its options in order, and where it was parsed. */
export class QemuOpts {
  readonly id: string | undefined;
  readonly opts: QemuOpt[] = [];
  /** The command-line location saved at creation (loc_save), for later reports. */
  readonly location: string | undefined;

  constructor(id: string | undefined, location: string | undefined) {
    this.id = id;
    this.location = location;
  }

  /** qemu_opt_get(): the last value given for `name`. */
  get(name: string): string | undefined {
    return this.#find(name)?.str;
  }

  /** The parsed value of the last `name` (bool, number or size options). */
  value(name: string): boolean | bigint | undefined {
    return this.#find(name)?.value;
  }

  /** qemu_opt_has_help_opt(). */
  hasHelpOpt(): boolean {
    return this.opts.some((o) => isHelpOption(o.name));
  }

  #find(name: string): QemuOpt | undefined {
    for (let i = this.opts.length - 1; i >= 0; i--) {
      if (this.opts[i]!.name === name) return this.opts[i];
    }
    return undefined;
  }
}

/** A QemuOptsList with its groups (the list head). */
export class QemuOptsList {
  readonly def: QemuOptsListDef;
  readonly groups: QemuOpts[] = [];

  constructor(def: QemuOptsListDef) {
    this.def = def;
  }

  get acceptsAny(): boolean {
    return this.def.desc.length === 0;
  }

  /** qemu_opts_find(). */
  find(id: string | undefined): QemuOpts | undefined {
    return this.groups.find((o) => o.id === id);
  }

  /** qemu_opts_create(). */
  create(id: string | undefined, location: string | undefined): QemuOpts {
    if (this.def.mergeLists) {
      if (id !== undefined) throw new QapiError("Invalid parameter 'id'");
      const existing = this.find(undefined);
      if (existing !== undefined) return existing;
    } else if (id !== undefined) {
      if (!idWellformed(id)) {
        throw new QapiError(
          "Parameter 'id' expects an identifier",
          "Identifiers consist of letters, digits, '-', '.', '_', starting with a letter.\n",
        );
      }
      if (this.find(id) !== undefined) throw new QapiError(`Duplicate ID '${id}' for ${this.def.name}`);
    }
    const opts = new QemuOpts(id, location);
    this.groups.push(opts);
    return opts;
  }

  /** qemu_opts_print_help(list, true): the options, sorted, with their types and help. */
  helpText(): string {
    const typeName: Record<QemuOptType, string> = { str: "str", bool: "bool (on/off)", num: "num", size: "size" };
    const lines = this.def.desc.map((d) => {
      let s = `  ${d.name}=<${typeName[d.type]}>`;
      if (d.help !== undefined) s = `${s.padEnd(24)} - ${d.help}`;
      return s;
    });
    lines.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    if (lines.length === 0) return `There are no options for ${this.def.name}.\n`;
    return `${this.def.name} options:\n${lines.map((l) => `${l}\n`).join("")}`;
  }
}

/** util/qemu-option.c get_opt_value(): a value up to an unescaped ',', with ",," as ','. */
function getOptValue(p: string, pos: number): { value: string; next: number } {
  let value = "";
  let i = pos;
  while (i < p.length) {
    if (p[i] === ",") {
      if (p[i + 1] !== ",") break;
      i++;
    }
    value += p.charAt(i);
    i++;
  }
  return { value, next: i };
}

interface NameValue {
  readonly name: string;
  readonly value: string;
  readonly isHelp: boolean;
  readonly next: number;
  readonly flagWarning?: { readonly text: string; readonly hint: string };
}

/** util/qemu-option.c get_opt_name_value(). */
function getOptNameValue(params: string, pos: number, firstname: string | undefined): NameValue {
  const len = /^[^=,]*/.exec(params.slice(pos))![0].length;
  let name: string;
  let value: string;
  let next: number;
  let isHelp = false;
  let flagWarning: NameValue["flagWarning"];
  if (params[pos + len] !== "=") {
    if (firstname !== undefined) {
      name = firstname;
      ({ value, next } = getOptValue(params, pos));
    } else {
      name = params.slice(pos, pos + len);
      next = pos + len;
      let prefix = "";
      if (name.startsWith("no")) {
        name = name.slice(2);
        value = "off";
        prefix = "no";
      } else {
        value = "on";
        isHelp = isHelpOption(name);
      }
      if (!isHelp) {
        const hint = name === "delay" ? `Please use nodelay=${prefix === "" ? "off" : "on"} instead\n` : `Please use ${name}=${value} instead\n`;
        flagWarning = { text: `short-form boolean option '${prefix}${name}' deprecated`, hint };
      }
    }
  } else {
    name = params.slice(pos, pos + len);
    ({ value, next } = getOptValue(params, pos + len + 1));
  }
  if (params[next] === ",") next++;
  return { name, value, isHelp, next, ...(flagWarning === undefined ? {} : { flagWarning }) };
}

/** util/qemu-option.c opts_parse_id(): the value of the first "id=" item. */
function optsParseId(params: string): string | undefined {
  for (let p = 0; p < params.length; ) {
    const nv = getOptNameValue(params, p, undefined);
    if (nv.name === "id") return nv.value;
    p = nv.next;
  }
  return undefined;
}

/** opt_validate() + qemu_opt_parse(): the option must be known (unless any is accepted) and its value must parse. */
function validate(list: QemuOptsList, name: string, str: string): QemuOpt {
  const desc = list.def.desc.find((d) => d.name === name);
  if (desc === undefined) {
    if (!list.acceptsAny) throw new QapiError(`Invalid parameter '${name}'`);
    return { name, str };
  }
  switch (desc.type) {
    case "str":
      return { name, str };
    case "bool": {
      const b = qapiBoolParse(str);
      if (b === undefined) throw new QapiError(`Parameter '${name}' expects 'on' or 'off'`);
      return { name, str, value: b };
    }
    case "num": {
      const r = qemuStrtou64(str, 0);
      if (r.ret === -ERANGE) throw new QapiError(`Value '${str}' is too large for parameter '${name}'`);
      if (r.ret !== 0) throw new QapiError(`Parameter '${name}' expects a number`);
      return { name, str, value: r.value };
    }
    case "size": {
      const r = qemuStrtosz(str);
      if (r.ret === -ERANGE) throw new QapiError(`Value '${str}' is out of range for parameter '${name}'`);
      if (r.ret !== 0) {
        throw new QapiError(
          `Parameter '${name}' expects a non-negative number below 2^64`,
          "Optional suffix k, M, G, T, P or E means kilo-, mega-, giga-, tera-, peta-\nand exabytes, respectively.\n",
        );
      }
      return { name, str, value: r.value };
    }
  }
}

/**
 * qemu_opts_parse_noisily(list, params, permit_abbrev): parses one
 * occurrence into `list` at the reporter's current location. Flag
 * warnings go to the reporter; errors are thrown as {@link QapiError}.
 * Returns the group, or "help" when the list's help was asked for (QEMU
 * prints it and the caller exits with status 1).
 */
export function qemuOptsParseNoisily(list: QemuOptsList, params: string, permitAbbrev: boolean, reporter: QemuReporter): QemuOpts | "help" {
  const id = optsParseId(params);
  const opts = list.create(id, reporter.location);
  let firstname = permitAbbrev ? list.def.impliedOptName : undefined;
  const before = opts.opts.length;
  const undo = (): void => {
    // qemu_opts_del(): the whole group goes, even a merged one.
    const i = list.groups.indexOf(opts);
    if (i >= 0) list.groups.splice(i, 1);
    opts.opts.length = before;
  };
  for (let p = 0; p < params.length; ) {
    const nv = getOptNameValue(params, p, firstname);
    if (nv.flagWarning !== undefined) reporter.warn(nv.flagWarning.text, nv.flagWarning.hint);
    p = nv.next;
    if (!list.acceptsAny && nv.isHelp) {
      undo();
      return "help";
    }
    firstname = undefined;
    if (nv.name === "id") continue;
    try {
      opts.opts.push(validate(list, nv.name, nv.value));
    } catch (e) {
      undo();
      throw e;
    }
  }
  return opts;
}

/**
 * qemu_opts_do_parse(opts, params, firstname): the options of `params` for a
 * group whose other options the caller sets itself, as chardev/char.c
 * qemu_chr_parse_compat() does for "-serial tcp:…,server=on" or
 * "-qmp unix:PATH,…". Unlike {@link qemuOptsParseNoisily} a flag ("server",
 * "nowait") is accepted without the deprecation warning (opts_do_parse()
 * with warn_on_flag false), "help" is an ordinary flag and "id=" is skipped.
 * @throws Error with QEMU's message (and `hint`) for an option the list does
 * not have or a value that does not parse.
 */
export function qemuOptsDoParse(def: QemuOptsListDef, params: string, firstname: string | undefined): QemuOpt[] {
  const list = new QemuOptsList(def);
  const out: QemuOpt[] = [];
  let first = firstname;
  for (let p = 0; p < params.length; ) {
    const nv = getOptNameValue(params, p, first);
    p = nv.next;
    first = undefined;
    if (nv.name === "id") continue;
    out.push(validate(list, nv.name, nv.value));
  }
  return out;
}
