import type { V1Service } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { frontDoorPortAnnotation, portFor } from "./front-door-port.js";

function service(annotation?: string): V1Service {
  return {
    metadata: {
      namespace: "shop",
      name: "web",
      ...(annotation === undefined ? {} : { annotations: { [frontDoorPortAnnotation]: annotation } }),
    },
  };
}

describe("portFor: where a Service's front door listens", () => {
  it("takes the annotated port, and an ephemeral one (0) without the annotation", () => {
    expect(portFor(service("18080"))).toEqual({ port: 18080 });
    expect(portFor(service("1"))).toEqual({ port: 1 });
    expect(portFor(service("65535"))).toEqual({ port: 65535 });
    expect(portFor(service())).toEqual({ port: 0 });
    expect(portFor({ metadata: { name: "bare", annotations: { other: "1" } } })).toEqual({ port: 0 });
  });

  it("keeps the door shut for a value that is not a port, naming the Service, the annotation and the value", () => {
    for (const value of ["0", "65536", "80a", " 8080", "-1", "", "1e4", "8080.0", "http"]) {
      const choice = portFor(service(value));
      expect(choice, value).toEqual({
        problem: `service shop/web: annotation broadside.dev/front-door-port is ${JSON.stringify(value)}, not a port from 1 to 65535; its front door stays shut`,
      });
    }
  });
});
