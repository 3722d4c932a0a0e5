/**
 * QMP errors and command arguments.
 *
 * {@link QmpError} is QEMU's Error with its QapiErrorClass (qapi/error.json):
 * GenericError for error_setg(), the others for error_set(ERROR_CLASS_...).
 *
 * {@link visitArgs} checks a command's `arguments` against its QAPI schema
 * as the generated marshaller's qobject input visitor does
 * (qapi/qobject-input-visitor.c, qapi/qapi-visit-core.c): members in schema
 * order — "Parameter 'x' is missing", "Invalid parameter type for 'x',
 * expected: integer" — then whatever is left over, "Parameter 'x' is
 * unexpected" (visit_check_struct). Names of list elements are written
 * `x[0]` (full_name()); an enum value that is not in the enum gets
 * input_type_enum()'s "Parameter '%s' does not accept value '%s'" with the
 * visitor's own name, which is null for a list element.
 */

import { QDict, type QObject } from "./qobject.js";

/** qapi/error.json QapiErrorClass. */
export type QmpErrorClass = "GenericError" | "CommandNotFound" | "DeviceNotActive" | "DeviceNotFound" | "KVMMissingCap";

/** A command's failure: the error member of the response. */
export class QmpError extends Error {
  constructor(
    /** The error class ("class"). */
    readonly errorClass: QmpErrorClass,
    /** The human-readable text ("desc"), error_get_pretty(). */
    readonly desc: string,
  ) {
    super(desc);
    this.name = "QmpError";
  }
}

/** error_setg(): a GenericError. */
export function genericError(desc: string): QmpError {
  return new QmpError("GenericError", desc);
}

/** A QAPI member type as far as irqlab's commands need them. */
export type QapiType = "str" | "int" | "uint" | "bool" | "number" | "any" | { readonly enum: readonly string[] } | { readonly list: QapiType };

/** One member of a command's 'data'. */
export interface QapiMember {
  readonly name: string;
  readonly type: QapiType;
  /** `*name` in the schema. */
  readonly optional?: boolean;
}

const INT64_MAX = 2n ** 63n - 1n;

/** A visited argument value: strings, booleans, numbers (integers as bigint), lists, or the raw QObject for 'any'. */
export type ArgValue = QObject;

/**
 * Visits `args` with `members` as the QAPI marshaller does; returns the
 * values by member name (absent optional members are absent).
 * @throws QmpError (GenericError) with the input visitor's text.
 */
export function visitArgs(args: QDict, members: readonly QapiMember[]): Record<string, ArgValue> {
  const out: Record<string, ArgValue> = {};
  const visited = new Set<string>();
  for (const m of members) {
    const v = args.get(m.name);
    visited.add(m.name);
    if (v === undefined) {
      if (m.optional === true) continue;
      throw genericError(`Parameter '${m.name}' is missing`);
    }
    out[m.name] = visitValue(v, m.type, m.name, m.name);
  }
  for (const k of args.keys()) if (!visited.has(k)) throw genericError(`Parameter '${k}' is unexpected`);
  return out;
}

function typeError(fullName: string, expected: string): never {
  throw genericError(`Invalid parameter type for '${fullName}', expected: ${expected}`);
}

/** One value: `fullName` for type errors (full_name()), `name` for enum errors (the visitor's own name, null for list elements). */
function visitValue(v: QObject, type: QapiType, fullName: string, name: string | null): ArgValue {
  if (typeof type === "object") {
    if ("list" in type) {
      if (!Array.isArray(v)) typeError(fullName, "array");
      return v.map((x, i) => visitValue(x, type.list, `${fullName}[${i}]`, null));
    }
    if (typeof v !== "string") typeError(fullName, "string");
    if (!type.enum.includes(v)) throw genericError(`Parameter '${name ?? "null"}' does not accept value '${v}'`);
    return v;
  }
  switch (type) {
    case "str":
      if (typeof v !== "string") typeError(fullName, "string");
      return v;
    case "bool":
      if (typeof v !== "boolean") typeError(fullName, "boolean");
      return v;
    case "int":
      // qnum_get_try_int(): QNUM_I64, or QNUM_U64 up to INT64_MAX; never a double.
      if (typeof v !== "bigint" || v > INT64_MAX) typeError(fullName, "integer");
      return v;
    case "uint":
      // qnum_get_try_uint(): QNUM_U64, or a non-negative QNUM_I64.
      if (typeof v !== "bigint" || v < 0n) typeError(fullName, "uint64");
      return v;
    case "number":
      if (typeof v !== "bigint" && typeof v !== "number") typeError(fullName, "number");
      return Number(v);
    case "any":
      return v;
  }
}

/** Reads an optional string member of a dict (qdict_get_try_str). */
export function tryStr(args: QDict, key: string): string | undefined {
  const v = args.get(key);
  return typeof v === "string" ? v : undefined;
}
