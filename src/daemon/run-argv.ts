import { execFile } from "node:child_process";
import type { ArgvRunner } from "./cri-finder.js";

/** Runs an argv array (never a shell), 30 s at most; a missing binary is exit 127. */
export const systemArgvRunner: ArgvRunner = {
  run: (argv) =>
    new Promise((resolve) => {
      const [program = "", ...args] = argv;
      execFile(program, args, { timeout: 30_000, maxBuffer: 8 << 20 }, (error, stdout, stderr) => {
        const exitCode = error === null ? 0 : typeof error.code === "number" ? error.code : 127;
        resolve({ exitCode, stdout, stderr: error !== null && stderr === "" ? error.message : stderr });
      });
    }),
};
