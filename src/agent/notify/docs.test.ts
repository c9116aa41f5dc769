import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { notificationEventTypes } from "../../core/notify/event.js";
import { defaultTemplateText, placeholders } from "../../core/notify/template.js";
import { notificationLimits, parseNotificationConfig } from "./config.js";

/** docs/agent.md's Notifications section says what the code does: placeholders, templates, defaults. */

const page = readFileSync(new URL("../../../docs/agent.md", import.meta.url), "utf8");
const section = page.slice(page.indexOf("## Notifications"));

/** The cells of the table row whose first cell is `field` in backticks. */
function row(field: string): string[] {
  const line = section.split("\n").find((text) => text.startsWith(`| \`${field}\``)) ?? "";
  return line
    .split("|")
    .slice(1, -1)
    .map((cell) => cell.trim());
}

describe("docs/agent.md, Notifications", () => {
  it("lists every placeholder, and no other", () => {
    const paragraph = section.slice(
      section.indexOf("Placeholders:"),
      section.indexOf("A value the event does"),
    );
    const listed = [...paragraph.matchAll(/`([a-zA-Z.]+)`/g)].map(([, name = ""]) => name);
    expect(listed).toEqual([...placeholders]);
  });

  it("shows each default template as the code has it", () => {
    for (const type of notificationEventTypes) {
      expect(row(type)[1], type).toBe(`\`${defaultTemplateText[type]}\``);
    }
  });

  it("gives each delivery setting the default and bounds the parser uses", () => {
    const { delivery } = parseNotificationConfig({ sinks: [] }, "docs");
    expect(delivery.queueSize).toBe(Number(row("delivery.queueSize")[1]));
    expect(delivery.attempts).toBe(Number(row("delivery.attempts")[1]));
    for (const name of ["attemptTimeout", "backoffMin", "backoffMax", "drainTimeout"] as const) {
      const limit = notificationLimits[name];
      expect(row(`delivery.${name}`).slice(1, 3), name).toEqual([limit.default, `${limit.min}-${limit.max}`]);
    }
    for (const name of ["queueSize", "attempts"] as const) {
      const limit = notificationLimits[name];
      expect(row(`delivery.${name}`)[2], name).toBe(`${limit.min}-${limit.max}`);
    }
    expect(row("sinks")[2]).toBe(`at most ${notificationLimits.sinks}`);
  });
});
