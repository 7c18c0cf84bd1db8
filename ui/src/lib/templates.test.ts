import { describe, expect, it } from "vitest";
import { fillTemplate, sameLanguage, templatesFor } from "./templates";
import type { Template } from "../backend";

const ctx = { customerName: "王先生", ticketKey: "OP-1042", agentName: "Ana Lima", ticketSubject: "Refund not received" };

describe("fillTemplate", () => {
  it("fills every known placeholder, with or without inner spaces", () => {
    const out = fillTemplate("Hi {{customer.name}}, re {{ ticket.key }} ({{ticket.subject}}) — {{agent.name}}", ctx);
    expect(out).toBe("Hi 王先生, re OP-1042 (Refund not received) — Ana Lima");
  });

  it("fills repeated placeholders and leaves unknown ones for the agent to see", () => {
    expect(fillTemplate("{{ticket.key}}/{{ticket.key}} {{customer.phone}}", ctx)).toBe("OP-1042/OP-1042 {{customer.phone}}");
  });

  it("does not interpret replacement patterns or markup in values", () => {
    const hostile = { ...ctx, customerName: "$& <b>x</b> $1" };
    expect(fillTemplate("Dear {{customer.name}}", hostile)).toBe("Dear $& <b>x</b> $1");
  });
});

describe("templatesFor", () => {
  const tpl = (id: string, language: string, categories: Template["categories"] = []): Template => ({
    id,
    name: id,
    language,
    body: "",
    categories,
    changes: { status: null, priority: null, add_tags: [] },
    active: true,
  });
  const all = [tpl("en-general", "en"), tpl("zh-general", "zh-CN"), tpl("zh-refund", "zh-CN", ["funds_not_arrived"]), tpl("zh-kyc", "zh-CN", ["kyc_review"])];

  it("keeps the ticket's language, category matches first", () => {
    expect(templatesFor(all, "zh-CN", "funds_not_arrived").map((t) => t.id)).toEqual(["zh-refund", "zh-general", "zh-kyc"]);
    expect(templatesFor(all, "en", "inquiry").map((t) => t.id)).toEqual(["en-general"]);
    expect(templatesFor(all, "fr", "inquiry")).toEqual([]);
  });

  it("treats a bare primary tag as the same language", () => {
    expect(sameLanguage("zh", "zh-CN")).toBe(true);
    expect(sameLanguage("en-GB", "en")).toBe(true);
    expect(sameLanguage("en", "zh-CN")).toBe(false);
  });
});
