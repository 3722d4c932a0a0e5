/**
 * @irqlab/scenarios — the five seed threads as scenarios.
 *
 * @packageDocumentation
 */
export {};
