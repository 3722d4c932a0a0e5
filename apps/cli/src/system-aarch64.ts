/** Entry point of the `irqlab-system-aarch64` binary: qemu-system-aarch64's command line on irqlab's arm64 virt machine. */
import { launch } from "./launch/launch.js";
import type * as SystemMain from "./system-main.js";

void (launch("irqlab-system") as typeof SystemMain).systemMain("aarch64");
