/** The irqlab version, kept equal to apps/cli/package.json (a test checks it). */
export const VERSION = "0.1.0";
