import { describe, expect, it } from "vitest";
import { stopOrder } from "./launch.js";

const process = (pid: number) => ({ pid, binary: `/bin/p${pid}` });

describe("the order a sandbox's processes are stopped in", () => {
  it("stops the API server's clients first and etcd last, whatever order the state file lists them in", () => {
    const order = stopOrder({
      etcd: process(1),
      traffic: process(6),
      "kube-apiserver": process(2),
      kwok: process(5),
      "kube-scheduler": process(4),
      "kube-controller-manager": process(3),
    });
    expect(order.map((p) => p.pid)).toEqual([6, 5, 4, 3, 2, 1]);
  });

  it("stops a component it does not know (from another format) before all it knows", () => {
    expect(stopOrder({ etcd: process(1), "node-daemon": process(9) }).map((p) => p.pid)).toEqual([9, 1]);
  });
});
