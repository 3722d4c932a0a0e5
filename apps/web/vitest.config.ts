import { irqlabProject } from "../../vitest.shared.js";

export default irqlabProject("@irqlab/web");
