// Types of integration-shards.mjs, for its unit test and scripts/test.mjs.

export const measuredSeconds: Readonly<Record<string, number>>;
export const unmeasured: number;

export interface Shard {
  readonly files: string[];
  /** The shard's measured seconds (unmeasured files counted as `unmeasured`). */
  readonly seconds: number;
}

export function splitIntoShards(
  files: readonly string[],
  count: number,
  seconds?: Readonly<Record<string, number>>,
): Shard[];
