/**
 * qom-list and qom-get (qapi/qom.json; qom/qom-qmp-cmds.c) over the part of
 * the QOM tree irqlab models: the root, /machine with its containers
 * (unattached, peripheral, peripheral-anon, and on riscv the hart arrays
 * soc<N>), the CPUs and the -device devices.
 *
 * Properties: every object has `type` (string); devices have `realized`
 * (bool); arm CPUs `mp-affinity` (uint64, the MPIDR affinity, as
 * target/arm/cpu.c's property), riscv CPUs `hartid` (uint64: irqlab's —
 * riscv_hart_realize sets env.mhartid directly, QEMU has no such QOM
 * property); PCI functions `addr` (the devfn, int32). Children are
 * listed as `child<TYPE>` properties, as object_property_add_child names
 * them. Errors as qmp_qom_list / qmp_qom_get: an unknown path is
 * DeviceNotFound "Device 'PATH' not found"; an unknown property is
 * "Property 'TYPE.NAME' not found" (object_property_find_err). A path that
 * does not start with '/' is a partial path, resolved when exactly one
 * object's path ends with it (object_resolve_partial_path).
 */

import { QmpError, genericError } from "./qmp-args.js";
import type { QmpCommand } from "./qmp-dispatch.js";
import type { QmpCommandEnv } from "./qmp-env.js";
import type { QmpValue } from "./qobject.js";
import { cpuTypeName, machineTypeName } from "./qom-model.js";

/** One object of the modelled QOM tree. */
export interface QomObject {
  readonly path: string;
  readonly type: string;
  /** Child name → child object path. */
  readonly children: Map<string, string>;
  /** Property name → [QOM property type, value]. */
  readonly props: Map<string, readonly [string, QmpValue]>;
}

function object(path: string, type: string, device: boolean): QomObject {
  const props = new Map<string, readonly [string, QmpValue]>([["type", ["string", type]]]);
  if (device) props.set("realized", ["bool", true]);
  return { path, type, children: new Map(), props };
}

/** The modelled QOM tree of the machine, by canonical path. */
export function qomTree(env: QmpCommandEnv): Map<string, QomObject> {
  const m = env.machine;
  const reg = env.registry;
  reg.sync();
  const objs = new Map<string, QomObject>();
  const add = (o: QomObject): QomObject => {
    objs.set(o.path, o);
    const cut = o.path.lastIndexOf("/");
    const parent = objs.get(o.path.slice(0, cut) || "/");
    parent?.children.set(o.path.slice(cut + 1), o.path);
    return o;
  };
  add(object("/", "container", false));
  add(object("/machine", machineTypeName(m), false));
  for (const c of ["unattached", "peripheral", "peripheral-anon"]) add(object(`/machine/${c}`, "container", false));
  const cpuType = cpuTypeName(m);
  for (const c of m.cpus) {
    const path = reg.cpuPath(c.index);
    const socket = /^\/machine\/(soc\d+)\//.exec(path)?.[1];
    if (socket !== undefined && !objs.has(`/machine/${socket}`)) add(object(`/machine/${socket}`, "riscv.hart_array", true));
    const o = add(object(path, cpuType, true));
    if (m.config.arch === "aarch64") o.props.set("mp-affinity", ["uint64", c.archId]);
    else o.props.set("hartid", ["uint64", c.archId]);
  }
  const pci = m.pci.devices;
  for (const d of reg.devices()) {
    const o = add(object(d.path, d.driver, true));
    const fn = pci.find((p) => (d.id !== undefined ? p.id === d.id : p.driver === d.driver && p.id === undefined));
    if (fn !== undefined) o.props.set("addr", ["int32", fn.fn.devfn]);
  }
  return objs;
}

/** object_resolve_path(): an absolute path, or a partial one that matches exactly one object. */
function resolve(objs: ReadonlyMap<string, QomObject>, path: string): QomObject | undefined {
  if (path.startsWith("/")) return objs.get(path.length > 1 ? path.replace(/\/+$/, "") : path);
  const hits = [...objs.values()].filter((o) => o.path.endsWith(`/${path}`));
  return hits.length === 1 ? hits[0] : undefined;
}

/** qom-list / qom-get. */
export function qomCommands(env: QmpCommandEnv): QmpCommand[] {
  const find = (path: string): QomObject => {
    const objs = qomTree(env);
    const o = resolve(objs, path);
    if (o === undefined) throw new QmpError("DeviceNotFound", `Device '${path}' not found`);
    return o;
  };
  return [
    {
      name: "qom-list",
      args: [{ name: "path", type: "str" }],
      run(_ctx, args) {
        const objs = qomTree(env);
        const o = resolve(objs, args.path as string);
        if (o === undefined) throw new QmpError("DeviceNotFound", `Device '${args.path as string}' not found`);
        const out: { name: string; type: string }[] = [...o.props].map(([name, [type]]) => ({ name, type }));
        for (const [name, child] of o.children) out.push({ name, type: `child<${objs.get(child)!.type}>` });
        return out;
      },
    },
    {
      name: "qom-get",
      args: [
        { name: "path", type: "str" },
        { name: "property", type: "str" },
      ],
      run(_ctx, args) {
        const o = find(args.path as string);
        const name = args.property as string;
        const p = o.props.get(name);
        if (p !== undefined) return p[1];
        const child = o.children.get(name);
        // A child<> property reads as the child's canonical path.
        if (child !== undefined) return child;
        throw genericError(`Property '${o.type}.${name}' not found`);
      },
    },
  ];
}
