import { describe, expect, it } from "vitest";
import { MockBackend } from "./mock";
import { emptyFilter, savedViews, OPEN_STATUSES } from "../lib/views";
import type { QueueRow, QueueSort } from "./index";

const mock = () => new MockBackend({ signedIn: true, latency: 0, tickets: 250 });

async function allPages(m: MockBackend, sort: QueueSort, limit: number): Promise<QueueRow[]> {
  const rows: QueueRow[] = [];
  let cursor: string | null = null;
  do {
    const page = await m.queue(emptyFilter(), sort, cursor, limit);
    rows.push(...page.rows);
    cursor = page.next;
  } while (cursor);
  return rows;
}

describe("mock backend", () => {
  it("pages by cursor without gaps or duplicates, in sort order", async () => {
    const m = mock();
    for (const sort of ["sla_due", "priority", "updated"] as const) {
      const rows = await allPages(m, sort, 37);
      expect(rows).toHaveLength(250);
      expect(new Set(rows.map((r) => r.id)).size).toBe(250);
    }
    const byPriority = await allPages(m, "priority", 50);
    const order = byPriority.map((r) => r.priority);
    expect([...order].sort()).toEqual(order);
  });

  it("builds saved views from the signed-in agent", async () => {
    const m = mock();
    const me = (await m.appStart()).me!;
    const views = Object.fromEntries(savedViews(me).map((v) => [v.id, v.filter]));
    expect(views.my_open!.assignee).toEqual({ kind: "user", id: me.user.id });
    expect(views.unassigned).toMatchObject({ assignee: { kind: "unassigned" }, departments: me.user.departments, statuses: OPEN_STATUSES });
    const mine = await m.queue(views.my_open!, "sla_due", null, 500);
    expect(mine.rows.length).toBeGreaterThan(0);
    expect(mine.rows.every((r) => r.assignee === me.user.id && OPEN_STATUSES.includes(r.status))).toBe(true);
    const unassigned = await m.queue(views.unassigned!, "sla_due", null, 500);
    expect(unassigned.rows.every((r) => r.assignee === null && me.user.departments.includes(r.department!))).toBe(true);
    expect(await m.queueCount(views.all!)).toBe(250);
  });

  it("searches Chinese and English with character ranges", async () => {
    const m = mock();
    const zh = await m.search("被盗", 10);
    expect(zh.length).toBeGreaterThan(0);
    for (const hit of zh) {
      for (const [s, e] of hit.subject.ranges) expect(Array.from(hit.subject.text).slice(s, e).join("")).toBe("被盗");
    }
    const en = await m.search("REFUND", 10);
    expect(en.length).toBeGreaterThan(0);
    const [s, e] = en[0]!.subject.ranges[0]!;
    expect(en[0]!.subject.text.slice(s, e).toLowerCase()).toBe("refund");
  });

  it("refuses illegal transitions and ungated risk actions", async () => {
    const m = mock();
    const t = m.addTicket({ subject: "x", status: "new", risk: "L1", assignee: null });
    await expect(m.change({ name: "ticket.set_status", args: { ticket_id: t.id, status: "assigned", reason: null } })).rejects.toMatchObject({ code: "needs_assignee" });
    await expect(m.change({ name: "risk.freeze", args: { entry_id: "e", ticket_id: t.id, target: "acct", reason: "r" } })).rejects.toMatchObject({
      code: "verification_required",
    });
  });

  it("keeps changes while offline and sends them when back", async () => {
    const m = mock();
    m.setOffline(true);
    await m.note("t-00001", "offline note");
    expect((await m.syncNow()).unsent).toBe(1);
    m.setOffline(false);
    expect((await m.syncNow()).unsent).toBe(0);
  });
});
