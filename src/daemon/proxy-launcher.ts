import { spawn } from "node:child_process";
import { openSync, closeSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import type { ProxyConfig, ProxyReady } from "./proxy.js";
import { isJournalName } from "./journal.js";

/*
 * Starts the proxy backend's process (ADR 0039) in a pod's network namespace: an argv array, never a
 * shell: `nsenter --net=<path> -- <node> <proxy-main.js> --config <json>`. nsenter enters the namespace and
 * execs Node in place, so the child's pid is the proxy's. Node starts as root (its binary and Broadside's
 * files need not be readable by anyone else: a Node under root's home is not) and the proxy, once loaded,
 * takes its own uid and gid 2909 before it opens a socket (proxy-main.ts): it needs no root, and the
 * output redirect of a filtered delay exempts that uid (ADR 0041). It is detached (its own process group, no pipe
 * left open once it is ready), so it outlives a daemon killed while it holds a fault, as a qdisc would;
 * the journal keeps its pid and start time, and the proxy ends itself at its config's end.
 */

export interface StartedProxy {
  readonly pid: number;
  readonly listeners: ProxyReady["listeners"];
}

export interface ProxyLauncher {
  /** Starts a proxy in the namespace and resolves once it listens; rejects with the proxy's words. */
  start(netnsPath: string, config: ProxyConfig, name: string): Promise<StartedProxy>;
}

export class NodeProxyLauncher implements ProxyLauncher {
  constructor(
    private readonly program: { readonly node: string; readonly script: string },
    /** Where each proxy's stderr goes (`proxy-<work>.log`): the journal's directory. */
    private readonly logDir: string,
    private readonly readyTimeoutMs = 15_000,
  ) {}

  start(netnsPath: string, config: ProxyConfig, name: string): Promise<StartedProxy> {
    // The name becomes a log file's name: only names Broadside makes, as the journal's own files.
    if (!isJournalName(name))
      return Promise.reject(new Error(`${JSON.stringify(name)} is not a node work name`));
    mkdirSync(this.logDir, { recursive: true, mode: 0o700 });
    const log = openSync(join(this.logDir, `proxy-${name}.log`), "a", 0o600);
    const argv = [
      `--net=${netnsPath}`,
      "--",
      this.program.node,
      this.program.script,
      "--config",
      JSON.stringify(config),
      // Ignored by the proxy: the marks the start-up scan knows this daemon's proxies by (orphan-proxies.ts).
      ...["--work", name, "--journal", this.logDir],
    ];
    const child = spawn("nsenter", argv, { detached: true, stdio: ["ignore", "pipe", log] });
    closeSync(log);
    const stdout = child.stdout;
    if (stdout === null) return Promise.reject(new Error("the proxy has no stdout"));
    return new Promise((resolve, reject) => {
      let out = "";
      const timer = setTimeout(() => {
        fail(new Error(`the proxy did not say it was listening within ${this.readyTimeoutMs} ms`));
        child.kill("SIGKILL");
      }, this.readyTimeoutMs);
      const fail = (error: Error): void => {
        clearTimeout(timer);
        stdout.destroy();
        reject(error);
      };
      child.once("error", (error) => {
        fail(new Error(`nsenter could not start the proxy: ${error.message}`));
      });
      child.once("exit", (code) => {
        fail(new Error(`the proxy exited (code ${String(code)}) before it listened; see proxy-${name}.log`));
      });
      stdout.on("data", (chunk: Buffer) => {
        out += chunk.toString("utf8");
        const line = out.split("\n")[0] ?? "";
        if (!out.includes("\n")) return;
        clearTimeout(timer);
        child.removeAllListeners("exit");
        stdout.destroy();
        child.unref();
        try {
          const ready = JSON.parse(line) as Partial<ProxyReady>;
          if (child.pid === undefined || !Array.isArray(ready.listeners)) throw new Error("not ready");
          resolve({ pid: child.pid, listeners: ready.listeners });
        } catch {
          child.kill("SIGKILL");
          reject(new Error(`the proxy's ready line does not read: ${line.slice(0, 200)}`));
        }
      });
    });
  }
}
