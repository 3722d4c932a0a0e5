/**
 * QEMU's KEY=VALUE,... parser (util/keyval.c), used for -machine, -smp,
 * -display and machine properties:
 *
 *   key-vals     = [ key-val { ',' key-val } [ ',' ] ]
 *   key-val      = key '=' val | help
 *   key          = key-fragment { '.' key-fragment }
 *   val          = { / [^,]* / | ',,' }
 *
 * With an implied key, the first key-val may be a bare value, which ends at
 * the first ',' or '=' and takes no ',,' escape (keyval_parse_one). Dotted
 * keys build nested dictionaries; all-numeric members become lists
 * (keyval_listify). A bare "help" or "?" anywhere asks for help. A repeated
 * key keeps its place and takes the last value. keyval_merge() merges one
 * parsed dictionary into another (how vl.c folds -smp and -m into the
 * machine options).
 */

import { QapiError } from "./qemu-error.js";
import { parseQapiName, startsWithHelpOption, strtoull } from "./cutils.js";
import { QDict, QList, qtype, type QObject } from "./qdict.js";

/** keyval.c key_to_index(): a non-negative decimal index capped at INT_MAX, and where it ends. */
function keyToIndex(key: string, start: number): { index: number; end: number } | undefined {
  const c = key[start];
  if (c === undefined || c < "0" || c > "9") return undefined;
  const r = strtoull(key, 10, start);
  const index = r.erange || r.value > 0x7fffffffn ? 0x7fffffff : Number(r.value);
  return { index, end: r.end };
}

/** keyval.c keyval_parse_put(): `value` undefined means "must be a dictionary". */
function parsePut(cur: QDict, keyInCur: string, value: string | undefined, keyPrefix: string): QObject {
  const old = cur.get(keyInCur);
  if (old !== undefined) {
    if (qtype(old) !== (value === undefined ? "dict" : "string")) {
      throw new QapiError(`Parameters '${keyPrefix}.*' used inconsistently`);
    }
    if (value === undefined) return old;
  }
  const v = value ?? new QDict();
  cur.put(keyInCur, v);
  return v;
}

/** keyval.c keyval_parse_one(): parses one key-val at `pos`; returns where the next one starts. */
function parseOne(qdict: QDict, params: string, pos: number, impliedKey: string | undefined, help: { value: boolean }): number {
  const rest = params.slice(pos);
  let len = /^[^=,]*/.exec(rest)![0].length;
  let key = rest;
  let valEnd: number | undefined;
  if (len > 0 && rest[len] !== "=") {
    if (startsWithHelpOption(rest) === len) {
      help.value = true;
      let s = pos + len;
      if (params[s] === ",") s++;
      return s;
    }
    if (impliedKey !== undefined) {
      key = impliedKey;
      valEnd = pos + len;
      len = impliedKey.length;
    }
  }
  const keyEnd = len;
  let cur = qdict;
  let s = 0;
  let keyInCur = "";
  for (;;) {
    let fragLen: number;
    const idx = s !== 0 ? keyToIndex(key, s) : undefined;
    if (idx !== undefined) {
      fragLen = idx.end - s;
    } else {
      const ret = parseQapiName(key.slice(s), false);
      fragLen = ret < 0 ? 0 : ret;
    }
    if (fragLen === 0 || (s + fragLen < keyEnd && key[s + fragLen] !== ".")) {
      throw new QapiError(`Invalid parameter '${key.slice(0, keyEnd)}'`);
    }
    if (fragLen >= 128) {
      const fragment = s !== 0 || s + fragLen !== keyEnd ? " fragment" : "";
      throw new QapiError(`Parameter${fragment} '${key.slice(s, s + fragLen)}' is too long`);
    }
    if (s !== 0) {
      cur = parsePut(cur, keyInCur, undefined, key.slice(0, s - 1)) as QDict;
    }
    keyInCur = key.slice(s, s + fragLen);
    s += fragLen;
    if (key[s] !== ".") break;
    s++;
  }

  let value: string;
  let next: number;
  if (valEnd !== undefined) {
    value = params.slice(pos, valEnd);
    next = valEnd;
    if (params[next] === ",") next++;
  } else {
    if (key[s] !== "=") {
      throw new QapiError(`Expected '=' after parameter '${key.slice(0, s)}'`);
    }
    next = pos + s + 1;
    value = "";
    while (next < params.length) {
      if (params[next] === ",") {
        next++;
        if (params[next] !== ",") break;
      }
      value += params.charAt(next);
      next++;
    }
  }
  parsePut(cur, keyInCur, value, key.slice(0, keyEnd));
  return next;
}

/** keyval.c keyval_listify(): dictionaries whose keys are all indexes become lists. */
function listify(cur: QDict, path: string): QObject {
  let hasIndex = false;
  let hasMember = false;
  for (const [k, v] of cur.entries()) {
    if (keyToIndex(k, 0) !== undefined) hasIndex = true;
    else hasMember = true;
    if (v instanceof QDict) {
      const l = listify(v, `${path}${k}.`);
      if (l !== v) cur.put(k, l);
    }
  }
  if (hasIndex && hasMember) throw new QapiError(`Parameters '${path}*' used inconsistently`);
  if (!hasIndex) return cur;
  const n = cur.size;
  const elt: (QObject | undefined)[] = new Array<QObject | undefined>(n + 1).fill(undefined);
  let maxIndex = -1;
  for (const [k, v] of cur.entries()) {
    const index = keyToIndex(k, 0)!.index;
    maxIndex = Math.max(maxIndex, index);
    if (index < n) elt[index] = v;
  }
  const items: QObject[] = [];
  for (let i = 0; i < Math.min(n + 1, maxIndex + 1); i++) {
    const v = elt[i];
    if (v === undefined) throw new QapiError(`Parameter '${path}${String(i)}' missing`);
    items.push(v);
  }
  return new QList(items);
}

/**
 * keyval_parse_into(): parses `params` into `qdict`. Returns whether help
 * was asked for; with `allowHelp` false a help request is the error "Help is
 * not available for this option" (a null p_help in QEMU).
 */
export function keyvalParseInto(qdict: QDict, params: string, impliedKey: string | undefined, allowHelp: boolean): boolean {
  const help = { value: false };
  let pos = 0;
  let implied = impliedKey;
  while (pos < params.length) {
    pos = parseOne(qdict, params, pos, implied, help);
    implied = undefined;
  }
  if (help.value && !allowHelp) throw new QapiError("Help is not available for this option");
  listify(qdict, "");
  return help.value;
}

/** keyval_parse(): a fresh dictionary. */
export function keyvalParse(params: string, impliedKey: string | undefined, allowHelp: boolean): { dict: QDict; help: boolean } {
  const dict = new QDict();
  const help = keyvalParseInto(dict, params, impliedKey, allowHelp);
  return { dict, help };
}

/** keyval.c keyval_merge(): merges `merged` into `dest`; dictionaries recursively, lists appended, strings replaced. */
export function keyvalMerge(dest: QDict, merged: QDict, prefix = ""): void {
  for (const [key, value] of merged.entries()) {
    const old = dest.get(key);
    if (old !== undefined) {
      if (qtype(old) !== qtype(value)) {
        throw new QapiError(`Parameter '${prefix}${key}' used inconsistently`);
      }
      if (old instanceof QDict && value instanceof QDict) {
        keyvalMerge(old, value, `${prefix}${key}.`);
        continue;
      }
      if (old instanceof QList && value instanceof QList) {
        old.items.push(...value.items);
        continue;
      }
    }
    dest.put(key, value);
  }
}
