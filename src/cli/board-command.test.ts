import { describe, expect, it } from "vitest";
import { main } from "./main.js";

/** `broadside board` checks every flag before anything starts: no kubeconfig is read, nothing listens. */

async function run(...args: string[]): Promise<{ code: number; err: string }> {
  let err = "";
  const code = await main(
    ["node", "broadside", "board", ...args],
    { KUBECONFIG: "/nonexistent/kubeconfig" },
    {
      out: () => undefined,
      err: (text) => {
        err += text;
      },
    },
  );
  return { code, err };
}

describe("broadside board's flags", () => {
  it.each([
    [["--listen", "board.example:80"], "--listen"],
    [["--listen", "127.0.0.1"], "--listen"],
    [["--operator-namespace", "Not_A_Namespace"], "--operator-namespace"],
    [["--audience", "two words"], "--audience"],
  ])("refuses %j with exit 2 naming the flag, before the kubeconfig is read", async (args, flag) => {
    const { code, err } = await run(...args);
    expect(code).toBe(2);
    expect(err).toContain(`error [BRD_USAGE]: ${flag}`);
    expect(err).not.toContain("kubeconfig");
  });
});
