/**
 * The history limit, as Chaos Mesh's schedule garbage collector applies it (controllers/schedule/gc/
 * controller.go): every run the schedule started counts, running or not, oldest first; the oldest ones
 * beyond the limit are removed, except those still running, which are passed over (ScheduleSkipRemoveHistory)
 * and removed by a later pass once they have finished.
 */
export function retirable<Run>(
  runs: readonly Run[],
  historyLimit: number,
  finished: (run: Run) => boolean,
): Run[] {
  const excess = runs.length - historyLimit;
  if (excess <= 0) return [];
  return runs.slice(0, excess).filter(finished);
}
