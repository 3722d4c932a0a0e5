/** Entry point of the `irqlab-system-riscv64` binary: qemu-system-riscv64's command line on irqlab's riscv64 virt machine. */
import { launch } from "./launch/launch.js";
import type * as SystemMain from "./system-main.js";

void (launch("irqlab-system") as typeof SystemMain).systemMain("riscv64");
