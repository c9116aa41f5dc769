import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The board's page as the server hands it out (ADR 0027): a fixed map from URL to one of three files that
 * `npm run build` writes into dist/board-ui/ (scripts/bundle.mjs). No part of a request ever becomes a
 * path: a URL not in the map is not a route at all. Each file is read once and kept, so a page load costs
 * no disk read.
 */

export interface UiAsset {
  readonly file: "index.html" | "board.js" | "board.css";
  readonly type: string;
}

export const uiAssets: Readonly<Record<string, UiAsset>> = {
  "/": { file: "index.html", type: "text/html; charset=utf-8" },
  "/assets/board.js": { file: "board.js", type: "text/javascript; charset=utf-8" },
  "/assets/board.css": { file: "board.css", type: "text/css; charset=utf-8" },
};

/**
 * dist/board-ui/, found from this module: both dist/board/ui-assets.js (tsc's output) and the CLI's bundle
 * chunks in dist/bundle/ sit one level below dist/.
 */
export const defaultUiDirectory = fileURLToPath(new URL("../board-ui/", import.meta.url));

export type UiFile = { readonly found: true; readonly body: Buffer } | { readonly found: false };

/**
 * Reads each asset of `directory` once and keeps it; a missing file (the UI not built yet) is reported,
 * not thrown, and read again next time, so a build after the board started is picked up.
 */
export function uiFiles(directory: string): (asset: UiAsset) => Promise<UiFile> {
  const kept = new Map<string, Promise<UiFile>>();
  return (asset) => {
    const known = kept.get(asset.file);
    if (known !== undefined) return known;
    const file = readFile(join(directory, asset.file)).then(
      (body): UiFile => ({ found: true, body }),
      (): UiFile => {
        kept.delete(asset.file);
        return { found: false };
      },
    );
    kept.set(asset.file, file);
    return file;
  };
}

/** What GET / says when the page was not built: the API still works. */
export const uiNotBuilt =
  "<!doctype html><html lang=en><meta charset=utf-8><title>Broadside board</title>" +
  "<p>The board's page is not built (npm run build writes dist/board-ui/); the state is at /api/board.</p></html>\n";
