import type { JSX } from "preact";
import { clockTime } from "../cells.js";
import { restorerText, restoreText, tallyText } from "../duel-text.js";
import type { DuelView } from "../protocol.js";

/**
 * The GitOps duel running on the cluster (issue 13, docs/duel.md "On the board"), read only: the
 * attacks since the duel set its interval, newest first, who restored each and how fast, and the tally.
 * A quiet line when none runs. Every string from the cluster is a text node.
 */
export function DuelPanel({ duel }: { readonly duel: DuelView }): JSX.Element {
  if (!duel.running) {
    return (
      <section class="duel" aria-label="GitOps duel" data-duel="none">
        <p class="quiet">No duel is running.</p>
      </section>
    );
  }
  return (
    <section class="duel" aria-label="GitOps duel" data-duel="running">
      <h2>GitOps duel</h2>
      <p data-figure="duel-tally">
        Running since {duel.since === null ? "-" : clockTime(duel.since)}: {tallyText(duel)}
      </p>
      <div class="table-scroll">
        <table>
          <caption>Attacks, newest first</caption>
          <thead>
            <tr>
              <th scope="col">Attack</th>
              <th scope="col">Target</th>
              <th scope="col">Restored by</th>
              <th scope="col">Time to restore</th>
            </tr>
          </thead>
          <tbody>
            {duel.attacks.map((attack) => (
              <tr key={attack.id} data-attack={attack.id} data-restorer={attack.restorer}>
                <td>{attack.kind}</td>
                <td>{attack.target}</td>
                <td>{restorerText(attack)}</td>
                <td>{restoreText(attack)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
