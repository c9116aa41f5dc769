/** "1 pod", "3 pods": dry-run output is read by people, and "1 pods" reads like a bug. */
export function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? "" : "s"}`;
}
