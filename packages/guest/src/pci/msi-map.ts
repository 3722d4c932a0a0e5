/**
 * From a PCI requester ID to the ID its MSIs carry to the MSI controller,
 * as Linux's of_msi_map_id() / of_map_id() reads the host bridge's
 * `msi-map` and `msi-map-mask` (Documentation/devicetree/bindings/pci/
 * pci-msi.txt): the requester ID is masked, the entry whose range holds it
 * gives controller and output ID; without `msi-map` the ID is the
 * requester ID and the controller the `msi-parent`.
 */

import type { PcieHostInfo } from "../boot/platform-info.js";

/** Where a function's MSIs go. */
export interface MsiTarget {
  /** Path of the MSI controller node (the ITS), or undefined when the map names none. */
  readonly controller: string | undefined;
  /** The ID the controller sees (the ITS DeviceID). */
  readonly id: number;
}

/**
 * of_map_id(): undefined when `msi-map` exists but no entry covers the ID
 * (Linux: "no msi-map translation for id 0x.. on ..." and no MSI domain).
 */
export function msiMapId(host: PcieHostInfo, rid: number): MsiTarget | undefined {
  if (host.msiMap.length === 0) return { controller: host.msiParent, id: rid };
  const masked = (rid & (host.msiMapMask ?? 0xffff_ffff)) >>> 0;
  for (const e of host.msiMap) {
    if (masked < e.ridBase || masked >= e.ridBase + e.length) continue;
    return { controller: e.controller, id: masked - e.ridBase + e.outBase };
  }
  return undefined;
}
