import { describe, expect, it } from "vitest";
import { actionLabel, actorLabel, describeChange, explainBreak, parseDetail, summarise, valueChanges } from "./audit";
import type { AuditRecord, Directory, TicketEvent } from "../backend";
import { setLang } from "../i18n";
import { en } from "../i18n/en";
import { loadCatalogue } from "./categories";
import { mockBackend } from "../test/helpers";
import { ownCategoriesView } from "../test/admin";

const directory: Directory = {
  users: [{ id: "u-ana", name: "Ana Lima", email: "a@x", role: "agent", departments: ["support"], skills: [], active: true, away: false }],
  departments: [
    { code: "support", name: "Support", active: true },
    { code: "risk", name: "Risk", active: true },
  ],
};

const record = (patch: Partial<AuditRecord>): AuditRecord => ({
  seq: 1,
  at: "2025-03-01T10:00:00Z",
  actor: "u-ana",
  device: null,
  address: null,
  action: "ticket.set_status",
  ticket_id: "t-1",
  before: null,
  after: null,
  detail: "{}",
  department: null,
  prev_hash: "0".repeat(64),
  hash: "1".repeat(64),
  ...patch,
});

describe("audit wording", () => {
  it("names an organisation's own category as its catalogue does, once it is loaded", async () => {
    setLang("en");
    const change: TicketEvent = { type: "category_changed", from: "kyc_review", to: "merchant_onboarding" };
    // Before the catalogue is read there is no name but the code.
    expect(describeChange(change, directory).after).toBe("merchant_onboarding");
    try {
      await loadCatalogue(mockBackend().on("org_settings", ownCategoriesView()));
      const row = describeChange(change, directory);
      expect(row.after).toBe("Merchant onboarding");
      // A product category keeps the product's name (it is retired now; the record is not).
      expect(row.before).toBe(en["category.kyc_review"]);
      setLang("zh-CN");
      expect(describeChange(change, directory).after).toBe("商户入驻");
    } finally {
      setLang("en");
      await loadCatalogue(mockBackend());
    }
  });

  it("parses detail defensively: any JSON, plain text, junk in changes", () => {
    expect(parseDetail("not json").changes).toEqual([]);
    expect(parseDetail("[1,2]").object).toBeNull();
    expect(parseDetail('{"changes":"nope"}').changes).toEqual([]);
    const d = parseDetail('{"changes":[null,1,{"type":"created"},{"no":"type"}],"viewed_at":5,"revision":3}');
    expect(d.changes).toEqual([{ type: "created" }]);
    expect(d.viewedAt).toBeNull();
    expect(d.revision).toBe(3);
  });

  it("lists an administrative event's values that differ before and after, by path", () => {
    setLang("en");
    const detail = parseDetail(
      JSON.stringify({
        mutation_id: 4,
        target: { kind: "sla" },
        before: { kind: "sla", doc: { calendar: { tz: "Asia/Shanghai", holidays: [] }, warn: 0.75 } },
        after: { kind: "sla", doc: { calendar: { tz: "Europe/Lisbon", holidays: [{ date: "2026-12-25", name: "Natal" }] }, warn: 0.75 } },
      }),
    ).object;
    expect(valueChanges(detail).map((r) => [r.field, r.before, r.after])).toEqual([
      ["doc.calendar.tz", "Asia/Shanghai", "Europe/Lisbon"],
      ["doc.calendar.holidays.0.date", "None", "2026-12-25"],
      ["doc.calendar.holidays.0.name", "None", "Natal"],
    ]);
    // Something new (no before): every value of the after.
    const added = valueChanges({ before: null, after: { code: "vip", active: true } });
    expect(added.map((r) => r.text)).toEqual(["code: None → vip", "active: None → true"]);
    // A ticket event's detail has no `after`: nothing here (its `changes` are described instead).
    expect(valueChanges({ changes: [{ type: "created" }] })).toEqual([]);
    expect(valueChanges(null)).toEqual([]);
    // Emptied: the items that went.
    expect(valueChanges({ before: { tags: ["a"] }, after: { tags: [] } }).map((r) => r.text)).toEqual(["tags.0: a → None"]);
  });

  it("describes changes with their before and after values", () => {
    const change = (e: unknown) => describeChange(e as TicketEvent, directory);
    expect(change({ type: "status_changed", from: "new", to: "in_progress", reason: null })).toEqual({
      field: "Status",
      before: "New",
      after: "In progress",
      text: "Status: New → In progress",
    });
    expect(change({ type: "assignee_changed", from: null, to: "u-ana" }).text).toBe("Assignee: nobody → Ana Lima");
    expect(change({ type: "department_changed", from: "support", to: "risk" }).text).toBe("Department: Support → Risk");
    expect(change({ type: "entry_redacted", entry_id: "e", kind: "note", removed_sha256: "abcdef0123456789" }).text).toBe("internal note redacted (SHA-256 abcdef01…)");
    expect(change({ type: "something_new" }).text).toBe("something_new");
    setLang("zh-CN");
    expect(change({ type: "priority_changed", from: "P3", to: "P1" }).text).toBe("优先级：P3 → P1");
  });

  it("names actors and actions, and summarises events without changes", () => {
    expect(actorLabel("u-ana", directory)).toBe("Ana Lima");
    expect(actorLabel("intake:wechat", directory)).toBe("Intake (WeChat)");
    expect(actorLabel("system", directory)).toBe("System");
    expect(actorLabel("u-gone", directory)).toBe("u-gone");
    expect(actionLabel("ticket.set_status")).toBe("Change status");
    expect(actionLabel("session.login")).toBe("Sign-in");
    expect(actionLabel("brand.new")).toBe("brand.new");
    const fmt = () => "1 Mar";
    expect(summarise(record({ action: "ticket.view", detail: '{"viewed_at":"2025-03-01T09:59:00Z"}' }), directory, fmt)).toBe("Viewed 1 Mar");
    expect(summarise(record({ action: "user.disable", detail: '{"user":"u-ana"}' }), directory, fmt)).toBe("user: Ana Lima");
    expect(summarise(record({ action: "x", detail: "plain words" }), directory, fmt)).toBe("plain words");
  });

  it("explains every kind of chain break in words", () => {
    expect(explainBreak({ kind: "sequence_gap", expected: 5, found: 7 })).toBe("event #5 is missing (the next one found is #7).");
    expect(explainBreak({ kind: "truncated", expected_last: 10, found_last: 8 })).toBe("the newest events are missing: the server counts up to #10 but serves only up to #8.");
    expect(explainBreak({ kind: "link_broken", expected_prev: "a".repeat(64), stored_prev: "b".repeat(64) })).toContain("does not link to the event before it (expected aaaaaaaa…, found bbbbbbbb…)");
    expect(explainBreak({ kind: "content_altered", stored: "c".repeat(64), computed: "d".repeat(64) })).toContain("changed after it was sealed");
    expect(explainBreak({ kind: "beyond_head", head: 4 })).toBe("it lies beyond the chain head the server states (#4).");
  });
});
