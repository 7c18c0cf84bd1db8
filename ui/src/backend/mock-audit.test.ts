import { describe, expect, it } from "vitest";
import { MockBackend } from "./mock";
import type { AuditQuery } from "./index";

const q = (patch: Partial<AuditQuery> = {}): AuditQuery => ({
  from: null,
  to: null,
  actor: null,
  ticket_id: null,
  action: null,
  department: null,
  device: null,
  before_seq: null,
  after_seq: null,
  limit: null,
  ...patch,
});

const supervisor = () => new MockBackend({ signedIn: true, latency: 0, tickets: 60, user: "sam@example.com" });

describe("mock audit trail", () => {
  it("pages newest first with before_seq and oldest first with after_seq, without gaps", async () => {
    const m = supervisor();
    const head = m.audit.head().last_seq;
    expect(head).toBeGreaterThan(150);
    const seen: number[] = [];
    let before: number | null = null;
    for (;;) {
      const page = await m.auditPage(q({ before_seq: before, limit: 70 }));
      seen.push(...page.events.map((e) => e.seq));
      if (!page.has_more) break;
      before = page.events[page.events.length - 1]!.seq;
    }
    expect(seen).toEqual(Array.from({ length: head }, (_, i) => head - i));
    const asc = await m.auditPage(q({ after_seq: 10, limit: 5 }));
    expect(asc.events.map((e) => e.seq)).toEqual([11, 12, 13, 14, 15]);
  });

  it("filters by exact action, by family, by actor and by ticket", async () => {
    const m = supervisor();
    const views = await m.auditPage(q({ action: "ticket.view", limit: 5000 }));
    expect(views.events.length).toBeGreaterThan(0);
    expect(views.events.every((e) => e.action === "ticket.view")).toBe(true);
    const sessions = await m.auditPage(q({ action: "session.", limit: 5000 }));
    expect(new Set(sessions.events.map((e) => e.action))).toEqual(new Set(["session.login"]));
    const sam = await m.auditPage(q({ actor: "u-sam", limit: 5000 }));
    expect(sam.events.every((e) => e.actor === "u-sam")).toBe(true);
    const one = await m.auditPage(q({ ticket_id: "t-00002", limit: 5000 }));
    expect(one.events.length).toBeGreaterThan(0);
    expect(one.events.every((e) => e.ticket_id === "t-00002")).toBe(true);
  });

  it("records changes with their before/after values, and redactions with the removed content's hash", async () => {
    const m = supervisor();
    const t = m.addTicket({ subject: "x", status: "triaged", assignee: "u-ana" });
    await m.change({ name: "ticket.set_status", args: { ticket_id: t.id, status: "in_progress", reason: null } });
    const [latest] = (await m.auditPage(q({ ticket_id: t.id, limit: 1 }))).events;
    expect(latest!.action).toBe("ticket.set_status");
    expect(JSON.parse(latest!.detail).changes).toEqual([{ type: "status_changed", from: "triaged", to: "in_progress", reason: null }]);
    const reply = await m.reply(t.id, "my card number is 4111 1111 1111 1111");
    await m.change({ name: "entry.redact", args: { ticket_id: t.id, entry_id: reply.entries[0]!.id, reason: "card number" } });
    const [redact] = (await m.auditPage(q({ ticket_id: t.id, action: "entry.redact", limit: 1 }))).events;
    const detail = JSON.parse(redact!.detail);
    expect(detail.entry_id).toBe(reply.entries[0]!.id);
    expect(redact!.before).toBe(detail.removed_sha256);
    expect((await m.ticket(t.id)).entries.find((e) => e.id === reply.entries[0]!.id)!.body).toMatchObject({ kind: "redacted", reason: "card number", by: "u-sam" });
    await expect(m.change({ name: "entry.redact", args: { ticket_id: t.id, entry_id: reply.entries[0]!.id, reason: "again" } })).rejects.toMatchObject({ code: "rejected" });
  });

  it("verifies the chain and names the first altered, missing or truncated event", async () => {
    const m = supervisor();
    const ok = await m.auditVerify();
    expect(ok).toMatchObject({ broken: null, checked: m.audit.head().last_seq, previous: null, previous_matches: null });
    expect((await m.auditVerify()).previous_matches).toBe(true);

    m.audit.alter(7, { actor: "u-omar" });
    expect((await m.auditVerify()).broken).toMatchObject({ seq: 7, kind: { kind: "content_altered" } });

    const gap = supervisor();
    gap.audit.remove(12);
    expect((await gap.auditVerify()).broken).toMatchObject({ seq: 13, kind: { kind: "sequence_gap", expected: 12, found: 13 } });

    const cut = supervisor();
    const head = cut.audit.head().last_seq;
    cut.audit.truncate(2);
    expect((await cut.auditVerify()).broken).toMatchObject({ kind: { kind: "truncated", expected_last: head, found_last: head - 2 } });
  });

  it("notices a consistently rewritten history against the head verified before", async () => {
    const m = supervisor();
    await m.auditVerify();
    m.audit.rewrite(20, { actor: "u-li" });
    const check = await m.auditVerify();
    expect(check.broken).toBeNull();
    expect(check.previous_matches).toBe(false);
  });

  it("exports CSV and JSON that check out, and finds a tampered event", async () => {
    const m = supervisor();
    for (const format of ["csv", "json"] as const) {
      const saved = await m.auditExport(q(), format);
      const text = m.savedFiles.get(saved.file.path)!;
      expect(saved.file.path).toMatch(new RegExp(`/Downloads/outpost-audit-1-${saved.header.last_seq}( \\(\\d+\\))?\\.${format}$`));
      expect(saved.header).toMatchObject({ filtered: false, first_seq: 1, count: m.audit.head().last_seq });
      const check = await m.auditCheckExport(text);
      expect(check).toMatchObject({ verified: { count: saved.header.count, reaches_head: true }, problem: null, unreadable: null });
    }
    const filtered = await m.auditExport(q({ action: "ticket.view" }), "json");
    expect(filtered.header.filtered).toBe(true);
    expect((await m.auditCheckExport(m.savedFiles.get(filtered.file.path)!)).verified).toMatchObject({ filtered: true });

    const json = JSON.parse(m.savedFiles.get((await m.auditExport(q(), "json")).file.path)!);
    json.events[3].actor = "u-omar";
    const tampered = await m.auditCheckExport(JSON.stringify(json));
    expect(tampered.problem).toMatchObject({ problem: "chain", seq: 4, kind: { kind: "content_altered" } });
    expect((await m.auditCheckExport("hello")).unreadable).toMatch(/not an Outpost audit export/);
  });

  it("is for supervisors only and needs the server", async () => {
    const agent = new MockBackend({ signedIn: true, latency: 0, tickets: 10 });
    await expect(agent.auditPage(q())).rejects.toMatchObject({ code: "forbidden" });
    await expect(agent.report({ from: "2025-01-01T00:00:00Z", to: "2025-02-01T00:00:00Z", departments: [], assignee: null, recurring_days: 30, utc_offset_minutes: 0 })).rejects.toMatchObject({ code: "forbidden" });
    const m = supervisor();
    m.setOffline(true);
    await expect(m.auditPage(q())).rejects.toMatchObject({ code: "offline" });
    await expect(m.auditVerify()).rejects.toMatchObject({ code: "offline" });
  });

  it("records views of sensitive tickets when they are opened, once per interval, and sends offline ones on reconnect", async () => {
    let clock = Date.UTC(2025, 2, 20, 12);
    const m = new MockBackend({ signedIn: true, latency: 0, tickets: 5, user: "sam@example.com", now: () => clock });
    const sensitive = m.addTicket({ subject: "takeover", risk: "L1", category: "account_takeover" });
    const plain = m.addTicket({ subject: "question", risk: "none", category: "inquiry" });
    const views = async (id: string) => (await m.auditPage(q({ ticket_id: id, action: "ticket.view" }))).events.length;
    await m.ticket(sensitive.id);
    await m.ticket(sensitive.id);
    await m.ticket(plain.id);
    expect(await views(sensitive.id)).toBe(1);
    expect(await views(plain.id)).toBe(0);
    clock += 11 * 60_000;
    m.setOffline(true);
    await m.ticket(sensitive.id);
    m.setOffline(false);
    expect(await views(sensitive.id)).toBe(2);
  });
});
