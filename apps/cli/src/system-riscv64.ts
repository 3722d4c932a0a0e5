/** Entry point of the `irqlab-system-riscv64` binary: qemu-system-riscv64's command line on irqlab's riscv64 virt machine. */
import { systemMain } from "./system-main.js";

await systemMain("riscv64");
