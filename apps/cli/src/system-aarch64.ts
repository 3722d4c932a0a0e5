/** Entry point of the `irqlab-system-aarch64` binary: qemu-system-aarch64's command line on irqlab's arm64 virt machine. */
import { systemMain } from "./system-main.js";

await systemMain("aarch64");
