import { limitNames, type Limits } from "./config.js";

/**
 * Limits only ever go down: the service's configuration is the ceiling, a pack may lower it for its
 * assignment, and a request may lower it further for one submission.
 */
export function lowerLimits(ceiling: Limits, lower: Partial<Limits> | undefined): Limits {
  const result = { ...ceiling };
  for (const name of limitNames) {
    const value = lower?.[name];
    if (value !== undefined && value < result[name]) result[name] = value;
  }
  return result;
}

/** The names of requested limits that exceed the ceiling, with both values. */
export function raisedLimits(ceiling: Limits, requested: Partial<Limits> | undefined): Array<{ name: keyof Limits; requested: number; ceiling: number }> {
  const raised: Array<{ name: keyof Limits; requested: number; ceiling: number }> = [];
  for (const name of limitNames) {
    const value = requested?.[name];
    if (value !== undefined && value > ceiling[name]) raised.push({ name, requested: value, ceiling: ceiling[name] });
  }
  return raised;
}
