// Types of node-runtime.mjs, for its unit test and scripts/test.mjs's readers.

export interface NodeRelease {
  /** The major line: 26. */
  readonly line: number;
  /** The pinned release: "26.12.1". */
  readonly version: string;
  /** The npm package's dist.integrity per platform key ("linux-x64"). */
  readonly integrity: Readonly<Record<string, string>>;
}

export const testedNodes: { readonly current: NodeRelease; readonly oldest: NodeRelease };

export function platformKey(platform: string, arch: string): string;
export function packageSpec(release: NodeRelease, platform: string): string;
export function cacheKey(release: NodeRelease, platform: string): string;
export function cacheRootOf(env: Readonly<Record<string, string | undefined>>, home: string): string;
export function integrityOf(bytes: Uint8Array): string;
export function integrityProblem(bytes: Uint8Array, expected: string): string | undefined;
export function isOfLine(version: string, line: number): boolean;
export function pathWithFirst(dir: string, pathValue: string | undefined): string;

export function npmFailure(stdout: string, stderr: string, status: number | null): string;

/** Fetches a package into a directory; returns the tarball's path. */
export type Pack = (spec: string, dir: string) => string;
export const npmPack: Pack;

export type EnsuredNode =
  | { readonly ok: true; readonly node: string; readonly source: "machine" | "cache" | "download" }
  | { readonly ok: false; readonly message: string };

export function ensureNode(
  release: NodeRelease,
  options: {
    readonly cacheRoot: string;
    readonly platform?: string;
    readonly machine?: { readonly node: string; readonly version: string };
    readonly pack?: Pack;
  },
): EnsuredNode;
