import { podEvict } from "./pod-evict.js";
import { podKill } from "./pod-kill.js";
import type { PodFault, PodFaultKind } from "./types.js";

/** Every pod fault by kind; the Record type makes the compiler refuse a kind without an implementation. */
export const podFaults: Record<PodFaultKind, PodFault> = {
  "pod-kill": podKill,
  "pod-evict": podEvict,
};
