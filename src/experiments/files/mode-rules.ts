import { countLimits } from "../../core/input-limits.js";
import type { CelRule } from "./cel.js";
import { celString } from "./cel.js";

/**
 * The rules of core/targeting/mode.ts readMode as CEL, for the API server: fixed takes 1 to 100000 pods,
 * the percent modes 1 to 100, and each of them needs its value. Shared by PodChaos and an Experiment's pod
 * steps, whose value may be written as a number.
 */

const valueModes = ["fixed", "fixed-percent", "random-max-percent"] as const;
const percentModes = ["fixed-percent", "random-max-percent"] as const;

function celList(values: readonly string[]): string {
  return `[${values.map(celString).join(", ")}]`;
}

/** How the value is written: a string (Chaos Mesh), or a string or a number (an Experiment's step). */
export type ValueType = "string" | "int-or-string";

/**
 * A CEL test that the value is a whole number from min to max. On a string it is read with int() once it
 * is known to be digits; each test reads the value itself, so the API server can bound its cost by the
 * value's maxLength.
 */
function wholeNumber(valueType: ValueType, min: number, max: number): string {
  const text = `self.value.matches('^[0-9]{1,${String(max).length}}$') && int(self.value) >= ${min} && int(self.value) <= ${max}`;
  if (valueType === "string") return text;
  return `type(self.value) == int ? (self.value >= ${min} && self.value <= ${max}) : (${text})`;
}

export function modeValueRules(valueType: ValueType): CelRule[] {
  const { min, max } = countLimits.fixedPods;
  const mode = (modes: readonly string[]) => `has(self.mode) && self.mode in ${celList(modes)}`;
  return [
    {
      rule: `!(${mode(valueModes)}) || has(self.value)`,
      message: `is required for mode ${valueModes.join(", ")}`,
      fieldPath: ".value",
    },
    {
      rule: `!(${mode(["fixed"])}) || !has(self.value) || (${wholeNumber(valueType, min, max)})`,
      message: `mode fixed needs a whole number of pods from ${min} to ${max}`,
      fieldPath: ".value",
    },
    {
      rule: `!(${mode(percentModes)}) || !has(self.value) || (${wholeNumber(valueType, 1, 100)})`,
      message: `modes ${percentModes.join(" and ")} need a percentage from 1 to 100`,
      fieldPath: ".value",
    },
  ];
}
