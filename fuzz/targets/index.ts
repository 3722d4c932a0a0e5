/** Every fuzz target, in the order `npm run fuzz` runs them. */

import { anyTarget, type FuzzTarget } from "../target.js";
import { aplicRegisters } from "./aplic-registers.js";
import { conservation } from "./conservation.js";
import { gicRegisters } from "./gic-registers.js";
import { imsicRegisters } from "./imsic-registers.js";
import { itsCommands } from "./its-commands.js";
import { kvmIoctls } from "./kvm-ioctls.js";
import { runLoopForms } from "./run-loop-forms.js";

export const TARGETS: readonly FuzzTarget[] = [anyTarget(gicRegisters), anyTarget(itsCommands), anyTarget(imsicRegisters), anyTarget(aplicRegisters), anyTarget(conservation), anyTarget(kvmIoctls), anyTarget(runLoopForms)];
