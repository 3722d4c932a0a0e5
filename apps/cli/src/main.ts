/** Entry point of the `irqlab` binary: irqlab-command.ts, from dist/irqlab-main.cjs. */
import type * as IrqlabCommand from "./irqlab-command.js";
import { launch } from "./launch/launch.js";

void (launch("irqlab-main") as typeof IrqlabCommand).runIrqlab();
