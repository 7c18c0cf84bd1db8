import { beforeEach, describe, expect, it } from "vitest";
import { fireEvent, render, screen } from "@solidjs/testing-library";
import { App } from "../../App";
import { checklistItems, customerFormLink, SetupChecklist, type ChecklistTarget } from "./Checklist";
import { adminBackend, adminMe, orgSettingsView } from "../../test/admin";
import { deskContext, eventually, mockBackend, renderInDesk, stubViewport } from "../../test/helpers";
import type { Directory, OrgSettingsView, User } from "../../backend";
import { recorded } from "../../backend/mock";

beforeEach(() => localStorage.clear());

/** A fresh organisation: every document at the product default, one admin, no templates. */
function fresh(): { view: OrgSettingsView; users: User[] } {
  const view = orgSettingsView();
  for (const kind of ["organisation", "sla", "rules", "verification", "catalogue"] as const) view.settings[kind].version = 0;
  view.templates = [];
  return { view, users: [adminMe().user] };
}

const doneOf = (view: OrgSettingsView, users: User[]) => Object.fromEntries(checklistItems(view, users).map((i) => [i.id, i.done]));

describe("setup checklist: what is done comes from data", () => {
  it("starts with nothing done", () => {
    const { view, users } = fresh();
    expect(doneOf(view, users)).toEqual({ hours: false, departments: false, invite: false, templates: false, form: false });
  });

  it("ticks each item from the settings, the people and the templates", () => {
    const { view, users } = fresh();
    const team = recorded<Directory>("directory").users;
    view.settings.sla.version = 1;
    expect(doneOf(view, users).hours).toBe(true);
    view.settings.organisation.version = 3;
    expect(doneOf(view, users).form).toBe(true);
    view.templates = orgSettingsView().templates.filter((x) => x.active).slice(0, 1);
    expect(view.templates).toHaveLength(1);
    expect(doneOf(view, users).templates).toBe(true);
    // A retired template does not count.
    view.templates = view.templates.map((x) => ({ ...x, active: false }));
    expect(doneOf(view, users).templates).toBe(false);
    expect(doneOf(view, team).invite).toBe(true);
    // Departments: each active one needs an active agent or supervisor.
    const codes = view.departments.filter((d) => d.active).map((d) => d.code);
    const staff = (departments: string[]): User => ({ ...adminMe().user, id: `01a0e580-0000-7000-8000-00000000000${departments.length}`, role: "agent", departments });
    expect(doneOf(view, [...users, staff(codes.slice(1))]).departments).toBe(false);
    expect(doneOf(view, [...users, staff(codes)]).departments).toBe(true);
    expect(doneOf(view, [...users, { ...staff(codes), active: false }]).departments).toBe(false);
    // Retiring the unstaffed department also does it.
    view.departments = view.departments.map((d) => (d.code === codes[0] ? { ...d, active: false } : d));
    expect(doneOf(view, [...users, staff(codes.slice(1))]).departments).toBe(true);
  });

  it("builds the customer form's link from the server address", () => {
    expect(customerFormLink("https://desk.shop.example/")).toBe("https://desk.shop.example/c/new");
  });
});

describe("setup checklist on the admin's start", () => {
  async function show(view: OrgSettingsView, users: User[]) {
    const mock = adminBackend().on("org_settings", view).on("directory", { ...recorded<Directory>("directory"), users });
    const ctx = await deskContext(mock);
    const opened: ChecklistTarget[] = [];
    renderInDesk(ctx, () => <SetupChecklist onOpen={(target) => opened.push(target)} />);
    return { mock, ctx, opened };
  }

  it("lists the items, ticks the done ones, and links each to its screen", async () => {
    const { view, users } = fresh();
    view.settings.sla.version = 2;
    const { opened } = await show(view, users);
    const card = await eventually(() => screen.getByTestId("setup-checklist"));
    expect(screen.getByTestId("checklist-progress").textContent).toBe("1 of 5 done");
    expect(screen.getByTestId("checklist-hours").dataset.done).toBe("true");
    expect(screen.getByTestId("checklist-invite").dataset.done).toBe("false");
    expect(screen.getByTestId("checklist-form-link-value").textContent).toBe(customerFormLink(adminMe().server));
    fireEvent.click(screen.getByTestId("checklist-open-invite"));
    fireEvent.click(screen.getByTestId("checklist-open-hours"));
    fireEvent.click(screen.getByTestId("checklist-open-form"));
    expect(opened).toEqual(["users", "calendar", "organisation"]);
    expect(card.querySelector("img")).toBeNull();
  });

  it("updates when the Desk reports changes, and goes away when everything is done", async () => {
    const { view, users } = fresh();
    const { mock, ctx } = await show(view, users);
    await eventually(() => screen.getByTestId("setup-checklist"));
    const done = orgSettingsView();
    done.settings.sla.version = 1;
    done.settings.organisation.version = 1;
    const codes = done.departments.filter((d) => d.active).map((d) => d.code);
    const team: User[] = [adminMe().user, { ...adminMe().user, id: "01a0e580-0000-7000-8000-000000000009", role: "agent", departments: codes }];
    expect(done.templates.some((x) => x.active)).toBe(true);
    mock.on("org_settings", done).on("directory", { ...recorded<Directory>("directory"), users: team });
    ctx.emit({ kind: "changes", notice: { tickets: [], revoked: [], everything: false } });
    await eventually(() => expect(screen.queryByTestId("setup-checklist")).toBeNull());
  });

  it("stays hidden once dismissed", async () => {
    const { view, users } = fresh();
    const first = await show(view, users);
    await eventually(() => screen.getByTestId("setup-checklist"));
    fireEvent.click(screen.getByTestId("checklist-dismiss"));
    expect(screen.queryByTestId("setup-checklist")).toBeNull();
    document.body.innerHTML = "";
    const second = await show(view, users);
    await new Promise((r) => setTimeout(r, 20));
    expect(screen.queryByTestId("setup-checklist")).toBeNull();
    expect(first.mock.callsTo("org_settings")).toHaveLength(1);
    expect(second.mock.callsTo("org_settings")).toHaveLength(0);
  });

  it("is not shown to agents and supervisors", async () => {
    const mock = mockBackend();
    renderInDesk(await deskContext(mock), () => <SetupChecklist onOpen={() => undefined} />);
    await new Promise((r) => setTimeout(r, 20));
    expect(screen.queryByTestId("setup-checklist")).toBeNull();
    expect(mock.callsTo("org_settings")).toHaveLength(0);
  });
});

describe("setup checklist in the desk", () => {
  it("shows on an admin's start and opens the admin area at the item's screen", async () => {
    const restore = stubViewport(560);
    try {
      const { view, users } = fresh();
      const mock = adminBackend().on("org_settings", view).on("directory", { ...recorded<Directory>("directory"), users });
      render(() => <App backend={mock} />);
      await eventually(() => screen.getByTestId("setup-checklist"));
      fireEvent.click(screen.getByTestId("checklist-open-invite"));
      await eventually(() => expect(screen.getByTestId("admin-tab-users").getAttribute("aria-selected")).toBe("true"));
      await eventually(() => screen.getByTestId("admin-users"));
      expect(screen.getByTestId("admin-panel-users").classList.contains("is-hidden")).toBe(false);
      // Back on the queue, the next item opens its own tab in the admin area already open.
      fireEvent.click(screen.getByTestId("view-all"));
      fireEvent.click(screen.getByTestId("checklist-open-templates"));
      await eventually(() => expect(screen.getByTestId("admin-tab-templates").getAttribute("aria-selected")).toBe("true"));
      expect(screen.getByTestId("admin-panel-users").classList.contains("is-hidden")).toBe(true);
    } finally {
      restore();
    }
  });
});
