import { describe, expect, it } from "vitest";
import { describeAccess } from "./access-review.js";

describe("describeAccess names a request as kubectl auth can-i would", () => {
  it("names the group, the object and where", () => {
    expect(
      describeAccess({ group: "broadside.dev", resource: "boards", verb: "operate", namespace: "demo" }),
    ).toBe("operate boards.broadside.dev in namespace demo");
    expect(
      describeAccess({ group: "", resource: "pods", verb: "delete", name: "web-0", namespace: "shop" }),
    ).toBe("delete pods/web-0 in namespace shop");
    expect(describeAccess({ group: "broadside.dev", resource: "boards", verb: "operate" })).toBe(
      "operate boards.broadside.dev cluster-wide",
    );
  });
});
