import { describe, expect, it } from "vitest";
import { fireEvent, screen } from "@solidjs/testing-library";
import { TicketPane } from "./TicketPane";
import { assigneeGroups } from "./AssigneePicker";
import { deskContext, eventually, mockBackend, renderInDesk, supervisorBackend } from "../test/helpers";
import type { Directory, QueueFilter, TicketDetail, User } from "../backend";
import { recorded, type FakeBackend } from "../backend/mock";
import { OPEN_STATUSES } from "../backend/rules.gen";

/** The recorded directory with one agent of the ticket's department away. */
function directory(awayId: string): Directory {
  const d = recorded<Directory>("directory");
  d.users = d.users.map((u) => (u.id === awayId ? { ...u, away: true } : u));
  return d;
}

/** Each person's open tickets: their position in the directory, so every count differs. */
const loadOf = (d: Directory, id: string) => d.users.findIndex((u) => u.id === id) + 1;

async function open(mock: FakeBackend, detail: TicketDetail, d: Directory) {
  mock
    .on("ticket", detail)
    .on("directory", d)
    .on("change", recorded("change.set_status.allowed"))
    .on("queue_count", (args) => {
      const filter = args.filter as QueueFilter;
      return filter.assignee.kind === "user" ? loadOf(d, filter.assignee.id) : 0;
    });
  renderInDesk(await deskContext(mock), () => <TicketPane ticketId={detail.ticket.id} />);
  await eventually(() => expect(screen.getByTestId("ticket-key").textContent).toBe(detail.ticket.key));
  return screen.getByTestId("assignee-select") as HTMLSelectElement;
}

const optionOf = (select: HTMLSelectElement, user: User) => [...select.options].find((o) => o.value === user.id)!;

describe("the assignee picker", () => {
  it("groups people by department, the ticket's first, with role, open tickets and away", async () => {
    const detail = recorded<TicketDetail>("ticket.plain");
    const dep = detail.ticket.department!;
    const base = recorded<Directory>("directory");
    const member = base.users.find((u) => u.role === "agent" && u.departments.includes(dep))!;
    const d = directory(member.id);
    const mock = mockBackend();
    const select = await open(mock, detail, d);
    const groups = [...select.querySelectorAll("optgroup")];
    const depName = d.departments.find((x) => x.code === dep)!.name;
    expect(groups[0]!.label).toBe(`${depName} (this ticket's department)`);
    expect(groups.map((g) => g.dataset.department)).toEqual(assigneeGroups(d, detail.ticket).map((g) => g.code ?? ""));
    // Everyone active appears once.
    const values = [...select.options].map((o) => o.value).filter(Boolean);
    expect(new Set(values).size).toBe(values.length);
    expect(values.sort()).toEqual(d.users.filter((u) => u.active).map((u) => u.id).sort());
    await eventually(() => expect(optionOf(select, member).textContent).toBe(`${member.name} · Agent · ${loadOf(d, member.id)} open · away`));
    // Loads are counted over open tickets in the cache.
    const counted = mock.callsTo("queue_count").map((c) => c.args.filter as QueueFilter);
    expect(counted.find((f) => f.assignee.kind === "user" && f.assignee.id === member.id)?.statuses).toEqual(OPEN_STATUSES);
  });

  it("tells an agent that assigning outside the department needs a supervisor", async () => {
    const detail = recorded<TicketDetail>("ticket.plain");
    const dep = detail.ticket.department!;
    const d = recorded<Directory>("directory");
    const outsider = d.users.find((u) => u.role === "agent" && u.active && !u.departments.includes(dep))!;
    const insider = d.users.find((u) => u.role === "agent" && u.active && u.departments.includes(dep))!;
    const supervisor = d.users.find((u) => u.role === "supervisor" && u.active)!;
    const mock = mockBackend();
    const select = await open(mock, detail, d);
    await eventually(() => expect(optionOf(select, outsider).disabled).toBe(true));
    expect(mock.callsTo("assignees").map((c) => c.args)).toContainEqual({ ticketId: detail.ticket.id });
    await eventually(() => expect(optionOf(select, outsider).textContent).toContain("other department: a supervisor assigns"));
    expect(optionOf(select, insider).disabled).toBe(false);
    expect(optionOf(select, supervisor).disabled).toBe(false);
  });

  it("lets a supervisor assign anyone, and sends the choice", async () => {
    const detail = recorded<TicketDetail>("ticket.plain");
    const d = recorded<Directory>("directory");
    const outsider = d.users.find((u) => u.role === "agent" && u.active && !u.departments.includes(detail.ticket.department!))!;
    const mock = supervisorBackend();
    const select = await open(mock, detail, d);
    await eventually(() => expect(mock.callsTo("assignees").length).toBeGreaterThan(0));
    await Promise.resolve();
    expect([...select.options].filter((o) => o.disabled)).toEqual([]);
    fireEvent.change(select, { target: { value: outsider.id } });
    await eventually(() =>
      expect(mock.callsTo("change").map((c) => c.args.mutation)).toEqual([{ name: "ticket.set_assignee", args: { ticket_id: detail.ticket.id, assignee: outsider.id } }]),
    );
  });

  it("marks exactly whom the desk refuses (the core decides, not the picker)", async () => {
    const detail = recorded<TicketDetail>("ticket.plain");
    const d = recorded<Directory>("directory");
    const insider = d.users.find((u) => u.role === "agent" && u.active && u.departments.includes(detail.ticket.department!))!;
    const mock = mockBackend().on(
      "assignees",
      d.users.map((u) => ({ user: u.id, allowed: u.id !== insider.id })),
    );
    const select = await open(mock, detail, d);
    await eventually(() => expect(optionOf(select, insider).disabled).toBe(true));
    expect([...select.options].filter((o) => o.disabled).map((o) => o.value)).toEqual([insider.id]);
  });
});
