/**
 * The QObject input visitor in keyval mode (qapi/qobject-input-visitor.c,
 * qobject_input_visitor_new_keyval), the part QEMU uses to set machine
 * properties and -smp/-m/-display options from keyval dictionaries: every
 * leaf is a string converted to the type the visitor asks for, and every
 * message names the parameter by its dotted path ("smp.cpus").
 *
 * The texts are the visitor's: "Parameter '%s' is missing",
 * "Parameter '%s' expects integer", "Parameter '%s' expects 'on' or 'off'",
 * "Parameter '%s' expects size", "Parameters '%s.*' are unexpected",
 * "Invalid parameter type for '%s', expected: object",
 * "Parameter '%s' is unexpected"; and qapi/qapi-visit-core.c's for enums
 * ("Parameter '%s' does not accept value '%s'") and narrow unsigned types
 * ("Parameter '%s' expects uint8_t"), which use the member name alone.
 */

import { QapiError } from "./qemu-error.js";
import { qapiBoolParse, qemuStrtoi64, qemuStrtosz, qemuStrtou64 } from "./cutils.js";
import { GHashKeyOrder, QDict, type QObject } from "./qdict.js";

interface StackEntry {
  readonly name: string | undefined;
  readonly dict: QDict;
  /** The keys not yet visited, in glib hash-table order (qobject_input_push). */
  readonly unvisited: GHashKeyOrder;
}

/** A keyval input visitor over one root dictionary. */
export class KeyvalVisitor {
  readonly #root: QDict;
  readonly #stack: StackEntry[] = [];

  constructor(root: QDict) {
    this.#root = root;
  }

  /** full_name_nth(qiv, name, 0): the dotted path of `name` in the containers being visited. */
  fullName(name: string | undefined): string {
    let errname = "";
    let cur = name;
    for (let i = this.#stack.length - 1; i >= 0; i--) {
      const so = this.#stack[i]!;
      errname = `.${cur ?? "<anonymous>"}${errname}`;
      cur = so.name;
    }
    if (cur !== undefined) return `${cur}${errname}`;
    if (errname.startsWith(".")) return errname.slice(1);
    return errname === "" ? "<anonymous>" : errname;
  }

  #tryGet(name: string | undefined, consume: boolean): QObject | undefined {
    const top = this.#stack[this.#stack.length - 1];
    if (top === undefined) return this.#root;
    const v = top.dict.get(name ?? "");
    if (consume && v !== undefined) top.unvisited.remove(name ?? "");
    return v;
  }

  #get(name: string | undefined): QObject {
    const v = this.#tryGet(name, true);
    if (v === undefined) throw new QapiError(`Parameter '${this.fullName(name)}' is missing`);
    return v;
  }

  /** qobject_input_get_keyval(): the string leaf at `name`. */
  #keyval(name: string): string {
    const v = this.#get(name);
    if (typeof v !== "string") throw new QapiError(`Parameters '${this.fullName(name)}.*' are unexpected`);
    return v;
  }

  /** visit_optional(): whether `name` is present (without consuming it). */
  optional(name: string): boolean {
    return this.#tryGet(name, false) !== undefined;
  }

  /** visit_start_struct(). `name` is ignored at the root. */
  startStruct(name: string | undefined): void {
    const v = this.#get(name);
    if (!(v instanceof QDict)) {
      throw new QapiError(`Invalid parameter type for '${this.fullName(name)}', expected: object`);
    }
    const unvisited = new GHashKeyOrder();
    for (const k of v.keys()) unvisited.insert(k);
    this.#stack.push({ name: this.#stack.length === 0 ? undefined : name, dict: v, unvisited });
  }

  /** visit_check_struct(): the first key nobody visited is unexpected. */
  checkStruct(): void {
    const top = this.#stack[this.#stack.length - 1];
    const key = top?.unvisited.keys()[0];
    if (key !== undefined) throw new QapiError(`Parameter '${this.fullName(key)}' is unexpected`);
  }

  /** visit_end_struct(). */
  endStruct(): void {
    this.#stack.pop();
  }

  /** visit_type_str(). */
  str(name: string): string {
    return this.#keyval(name);
  }

  /** visit_type_bool() (qapi_bool_parse). */
  bool(name: string): boolean {
    const s = this.#keyval(name);
    const b = qapiBoolParse(s);
    if (b === undefined) throw new QapiError(`Parameter '${this.fullName(name)}' expects 'on' or 'off'`);
    return b;
  }

  /** visit_type_int() (qemu_strtoi64, base 0). */
  int64(name: string): bigint {
    const r = qemuStrtoi64(this.#keyval(name), 0);
    if (r.ret < 0) throw new QapiError(`Parameter '${this.fullName(name)}' expects integer`);
    return r.value;
  }

  /** visit_type_uint64() (qemu_strtou64, base 0). */
  uint64(name: string): bigint {
    const r = qemuStrtou64(this.#keyval(name), 0);
    if (r.ret < 0) throw new QapiError(`Parameter '${this.fullName(name)}' expects integer`);
    return r.value;
  }

  /** visit_type_uint8/16/32(): uint64, then the range check of visit_type_uintN. */
  uintN(name: string, max: bigint, typeName: string): bigint {
    const v = this.uint64(name);
    if (v > max) throw new QapiError(`Parameter '${name}' expects ${typeName}`);
    return v;
  }

  /** visit_type_size() (qemu_strtosz). */
  size(name: string): bigint {
    const r = qemuStrtosz(this.#keyval(name));
    if (r.ret < 0) throw new QapiError(`Parameter '${this.fullName(name)}' expects size`);
    return r.value;
  }

  /** visit_type_<Enum>(): one of `values`. */
  enumeration<T extends string>(name: string, values: readonly T[]): T {
    const s = this.#keyval(name);
    const found = values.find((v) => v === s);
    if (found === undefined) throw new QapiError(`Parameter '${name}' does not accept value '${s}'`);
    return found;
  }
}
