// The one place that reads the wall clock: everything else takes a Clock, so tests can drive time.

/** Epoch milliseconds. */
export type Clock = () => number;

export const wallClock: Clock = () => Date.now();
