import { describe, expect, it } from "vitest";
import { knownKey, MAX_KEYS, rememberKeys, ticketKeyOf } from "./keys";

describe("remembered ticket keys", () => {
  it("stay bounded, dropping the oldest first", () => {
    const pairs = Array.from({ length: MAX_KEYS + 2_000 }, (_, i) => ({ id: `id-${i}`, key: `OP-${i}` }));
    rememberKeys(pairs);
    expect(knownKey("id-0")).toBeNull();
    expect(knownKey("id-1999")).toBeNull();
    expect(knownKey("id-2000")).toBe("OP-2000");
    expect(knownKey(`id-${MAX_KEYS + 1_999}`)).toBe(`OP-${MAX_KEYS + 1_999}`);
    // A forgotten key falls back to the id (the audit table then looks it up again).
    expect(ticketKeyOf("id-0")).toBe("id-0");
  });

  it("keep a key seen again as the newest", () => {
    rememberKeys([{ id: "kept", key: "OP-KEPT" }]);
    rememberKeys(Array.from({ length: MAX_KEYS - 1 }, (_, i) => ({ id: `fill-${i}`, key: `OP-F${i}` })));
    rememberKeys([{ id: "kept", key: "OP-KEPT2" }]);
    rememberKeys([{ id: "one-more", key: "OP-MORE" }]);
    expect(knownKey("kept")).toBe("OP-KEPT2");
    expect(knownKey("fill-0")).toBeNull();
  });
});
