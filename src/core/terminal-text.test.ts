import { describe, expect, it } from "vitest";
import { printable } from "./terminal-text.js";

describe("printable: text from files and the cluster cannot drive the terminal", () => {
  it("passes ordinary text, line feeds, tabs and non-Latin scripts untouched", () => {
    const text = "pod shop/web-1\tReady\nnamespace café 商店 🚢\n";
    expect(printable(text)).toBe(text);
  });

  it("shows an escape sequence as visible text instead of sending it", () => {
    expect(printable("title\u001b[2J\u001b]52;c;ZXZpbA==\u0007")).toBe(
      "title\\u001b[2J\\u001b]52;c;ZXZpbA==\\u0007",
    );
  });

  it("shows carriage returns, backspaces, DEL and C1 controls", () => {
    expect(printable("ok\rFAILED\b\u007f\u009b")).toBe("ok\\u000dFAILED\\u0008\\u007f\\u009b");
  });

  it("shows bidirectional overrides and isolates (Trojan Source)", () => {
    expect(printable("a\u202eb\u2066c\u200fd")).toBe("a\\u202eb\\u2066c\\u200fd");
  });
});
