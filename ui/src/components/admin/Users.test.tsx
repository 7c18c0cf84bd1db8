import { describe, expect, it } from "vitest";
import { fireEvent, screen, within } from "@solidjs/testing-library";
import { UsersScreen, parseSkills } from "./Users";
import { adminBackend, orgSettingsView } from "../../test/admin";
import { deskContext, eventually, renderInDesk } from "../../test/helpers";
import { BackendError, type Directory, type User } from "../../backend";
import { recorded, recordedError } from "../../backend/mock";
import { en } from "../../i18n/en";

const directory = () => recorded<Directory>("directory");

async function openUsers() {
  const mock = adminBackend();
  const ctx = await deskContext(mock);
  renderInDesk(ctx, () => <UsersScreen />);
  await eventually(() => expect(screen.getAllByTestId("user-row")).toHaveLength(directory().users.length));
  return { mock, ctx };
}

const row = (name: string) => screen.getAllByTestId("user-row").find((r) => within(r).getByTestId("user-name").textContent === name)!;

describe("people", () => {
  it("lists everyone with role, department names, skills and state", async () => {
    await openUsers();
    const d = directory();
    const someone = d.users.find((u) => u.departments.length > 0 && u.skills.length > 0)!;
    const r = row(someone.name);
    expect(within(r).getByTestId("user-role").textContent).toBe(en[`role.${someone.role}`]);
    const names = someone.departments.map((code) => d.departments.find((x) => x.code === code)!.name);
    expect(within(r).getByTestId("user-departments").textContent).toBe(names.join(", "));
    expect(within(r).getByTestId("user-skills").textContent).toBe(someone.skills.join(", "));
    expect(within(r).getByTestId("user-state").textContent).toContain(en["adminUsers.active"]);
  });

  it("invites someone with a one-time link and shows it once with a copy button", async () => {
    const { mock } = await openUsers();
    const d = directory();
    const added: User = { id: "01a0e560-0000-7000-8000-000000000001", name: "Ana Costa", email: "ana@shop.example", role: "agent", departments: [d.departments[0]!.code], skills: ["refunds", "pt"], active: true, away: false };
    mock.on("admin_add_user", { user: added, one_time_password: null, invite_link: "https://desk.shop.example/invite/tok123" });
    fireEvent.click(screen.getByTestId("invite-open"));
    const dialog = screen.getByTestId("invite-dialog");
    fireEvent.click(within(dialog).getByTestId("invite-submit"));
    expect(within(dialog).getByTestId("invite-error").textContent).toBe(en["adminUsers.missing"]);
    fireEvent.input(within(dialog).getByTestId("invite-name"), { target: { value: " Ana Costa " } });
    fireEvent.input(within(dialog).getByTestId("invite-email"), { target: { value: "ana@shop.example" } });
    fireEvent.click(within(dialog).getByTestId(`invite-departments-${d.departments[0]!.code}`));
    fireEvent.input(within(dialog).getByTestId("invite-skills"), { target: { value: "refunds, pt, refunds," } });
    fireEvent.click(within(dialog).getByTestId("invite-submit"));
    await eventually(() => expect(within(dialog).getByTestId("invite-secret-value").textContent).toBe("https://desk.shop.example/invite/tok123"));
    expect(mock.callsTo("admin_add_user")).toHaveLength(1);
    expect(JSON.stringify(mock.callsTo("admin_add_user")[0]!.args)).toContain('"invite":"link"');
    expect(mock.callsTo("admin_add_user")[0]!.args).toMatchObject({
      user: { email: "ana@shop.example", name: "Ana Costa", role: "agent", departments: [d.departments[0]!.code], skills: ["refunds", "pt"], invite: "link" },
    });
    let copied = "";
    Object.defineProperty(navigator, "clipboard", { configurable: true, value: { writeText: async (s: string) => void (copied = s) } });
    fireEvent.click(within(dialog).getByTestId("invite-secret-copy"));
    await eventually(() => expect(within(dialog).getByTestId("invite-secret-copied").textContent).toBe(en["adminUsers.copied"]));
    expect(copied).toBe("https://desk.shop.example/invite/tok123");
    expect(row("Ana Costa")).toBeTruthy();
    fireEvent.click(within(dialog).getByTestId("invite-close"));
    expect(screen.queryByTestId("invite-secret")).toBeNull();
  });

  it("invites with a one-time password when asked", async () => {
    const { mock } = await openUsers();
    const added: User = { id: "01a0e560-0000-7000-8000-000000000002", name: "Rui", email: "rui@shop.example", role: "supervisor", departments: [], skills: [], active: true, away: false };
    mock.on("admin_add_user", { user: added, one_time_password: "K7pQ-2mXz-9wLr", invite_link: null });
    fireEvent.click(screen.getByTestId("invite-open"));
    const dialog = screen.getByTestId("invite-dialog");
    fireEvent.input(within(dialog).getByTestId("invite-name"), { target: { value: "Rui" } });
    fireEvent.input(within(dialog).getByTestId("invite-email"), { target: { value: "rui@shop.example" } });
    fireEvent.change(within(dialog).getByTestId("invite-role"), { target: { value: "supervisor" } });
    fireEvent.click(within(dialog).getByTestId("invite-password"));
    fireEvent.click(within(dialog).getByTestId("invite-submit"));
    await eventually(() => expect(within(dialog).getByTestId("invite-secret-value").textContent).toBe("K7pQ-2mXz-9wLr"));
    expect(mock.callsTo("admin_add_user")[0]!.args).toMatchObject({ user: { role: "supervisor", invite: "password" } });
  });

  it("says so calmly when offline, and nothing is added", async () => {
    const { mock } = await openUsers();
    mock.on("admin_add_user", recordedError("admin_add_user.offline"));
    fireEvent.click(screen.getByTestId("invite-open"));
    const dialog = screen.getByTestId("invite-dialog");
    fireEvent.input(within(dialog).getByTestId("invite-name"), { target: { value: "Rui" } });
    fireEvent.input(within(dialog).getByTestId("invite-email"), { target: { value: "rui@shop.example" } });
    fireEvent.click(within(dialog).getByTestId("invite-submit"));
    await eventually(() => expect(within(dialog).getByTestId("invite-error").textContent).toBe(en["adminUsers.offline"]));
    expect(screen.getAllByTestId("user-row")).toHaveLength(directory().users.length);
  });

  it("edits role, departments, skills and away, sending only what changed", async () => {
    const { mock } = await openUsers();
    const d = directory();
    const agent = d.users.find((u) => u.role === "agent" && u.departments.length === 1)!;
    const other = d.departments.find((x) => !agent.departments.includes(x.code))!;
    const updated: User = { ...agent, departments: [...agent.departments, other.code], away: true, skills: [...agent.skills, "pt"] };
    mock.on("admin_update_user", updated);
    fireEvent.click(within(row(agent.name)).getByTestId("user-edit"));
    const dialog = screen.getByTestId("user-edit-dialog");
    fireEvent.click(within(dialog).getByTestId(`edit-departments-${other.code}`));
    fireEvent.click(within(dialog).getByTestId("edit-away"));
    fireEvent.input(within(dialog).getByTestId("edit-skills"), { target: { value: [...agent.skills, "pt"].join(", ") } });
    fireEvent.click(within(dialog).getByTestId("edit-save"));
    await eventually(() => expect(screen.queryByTestId("user-edit-dialog")).toBeNull());
    const args = mock.callsTo("admin_update_user")[0]!.args;
    expect(Object.values(args)).toContainEqual(agent.id);
    expect(Object.values(args)).toContainEqual({ departments: [...agent.departments, other.code], skills: [...agent.skills, "pt"], away: true });
    expect(within(row(agent.name)).getByTestId("user-away").textContent).toBe(en["adminUsers.away"]);
  });

  it("shows the server's refusal to demote the last admin and keeps the dialog open", async () => {
    const { mock } = await openUsers();
    const admin = directory().users.find((u) => u.role === "admin")!;
    mock.on("admin_update_user", new BackendError("conflict", "the organisation must keep at least one active admin"));
    fireEvent.click(within(row(admin.name)).getByTestId("user-edit"));
    const dialog = screen.getByTestId("user-edit-dialog");
    fireEvent.change(within(dialog).getByTestId("edit-role"), { target: { value: "agent" } });
    fireEvent.click(within(dialog).getByTestId("edit-save"));
    await eventually(() =>
      expect(within(dialog).getByTestId("edit-error").textContent).toBe("Not changed: the organisation must keep at least one active admin"),
    );
    expect(Object.values(mock.callsTo("admin_update_user")[0]!.args)).toContainEqual({ role: "agent" });
    expect(within(row(admin.name)).getByTestId("user-role").textContent).toBe(en["role.admin"]);
  });

  it("sets someone's weekly shifts, with a break, and the list sums them up", async () => {
    const { mock } = await openUsers();
    const agent = directory().users.find((u) => u.role === "agent" && !u.shifts)!;
    const nine = (end: number) => [{ start_minute: 540, end_minute: end }];
    const week = {
      monday: [
        { start_minute: 540, end_minute: 1020 },
        { start_minute: 1080, end_minute: 1140 },
      ],
      tuesday: nine(1020),
      wednesday: nine(1020),
      thursday: nine(1020),
      friday: nine(780),
      saturday: [],
      sunday: [],
    };
    mock.on("admin_update_user", { ...agent, shifts: week });
    fireEvent.click(within(row(agent.name)).getByTestId("user-edit"));
    const dialog = screen.getByTestId("user-edit-dialog");
    expect((within(dialog).getByTestId("edit-shifts-none") as HTMLInputElement).checked).toBe(true);
    expect(within(dialog).queryByTestId("edit-shifts-week")).toBeNull();
    fireEvent.click(within(dialog).getByTestId("edit-shifts-set"));
    fireEvent.click(within(within(dialog).getByTestId("shift-hours-monday")).getByTestId("interval-add"));
    const friday = within(dialog).getByTestId("shift-hours-friday");
    fireEvent.change(within(friday).getByTestId("interval-end"), { target: { value: "13:00" } });
    fireEvent.click(within(dialog).getByTestId("edit-save"));
    await eventually(() => expect(screen.queryByTestId("user-edit-dialog")).toBeNull());
    expect(Object.values(mock.callsTo("admin_update_user")[0]!.args)).toEqual([agent.id, { shifts: week }]);
    expect(within(row(agent.name)).getByTestId("user-shifts").textContent).toBe("Shifts: Mon 09:00–17:00, 18:00–19:00; Tue–Thu 09:00–17:00; Fri 09:00–13:00");
  });

  it("clears a schedule with null, so the person is always available again", async () => {
    const { mock } = await openUsers();
    const agent = directory().users.find((u) => u.role === "agent" && !u.shifts)!;
    const week = { monday: [{ start_minute: 540, end_minute: 1020 }], tuesday: [], wednesday: [], thursday: [], friday: [], saturday: [], sunday: [] };
    mock.on("admin_update_user", { ...agent, shifts: week });
    fireEvent.click(within(row(agent.name)).getByTestId("user-edit"));
    fireEvent.click(screen.getByTestId("edit-shifts-set"));
    for (const day of ["tuesday", "wednesday", "thursday", "friday"]) {
      fireEvent.click(within(screen.getByTestId(`shift-hours-${day}`)).getByTestId("interval-remove"));
    }
    fireEvent.click(screen.getByTestId("edit-save"));
    await eventually(() => expect(within(row(agent.name)).getByTestId("user-shifts").textContent).toBe("Shifts: Mon 09:00–17:00"));
    expect(Object.values(mock.callsTo("admin_update_user")[0]!.args)).toEqual([agent.id, { shifts: week }]);

    const { shifts: _dropped, ...cleared } = { ...agent, shifts: week };
    mock.on("admin_update_user", cleared);
    fireEvent.click(within(row(agent.name)).getByTestId("user-edit"));
    const dialog = screen.getByTestId("user-edit-dialog");
    expect((within(dialog).getByTestId("edit-shifts-set") as HTMLInputElement).checked).toBe(true);
    expect(within(within(dialog).getByTestId("shift-hours-tuesday")).getByTestId("interval-closed").textContent).toBe(en["adminUsers.shifts_off"]);
    fireEvent.click(within(dialog).getByTestId("edit-shifts-none"));
    expect(within(dialog).queryByTestId("edit-shifts-week")).toBeNull();
    fireEvent.click(within(dialog).getByTestId("edit-save"));
    await eventually(() => expect(screen.queryByTestId("user-edit-dialog")).toBeNull());
    expect(Object.values(mock.callsTo("admin_update_user")[1]!.args)).toEqual([agent.id, { shifts: null }]);
    expect(within(row(agent.name)).queryByTestId("user-shifts")).toBeNull();
  });

  it("shows the server's refusal of bad shift hours and keeps the dialog open", async () => {
    const { mock } = await openUsers();
    const agent = directory().users.find((u) => u.role === "agent" && !u.shifts)!;
    const message = "monday: 18:00–17:00 ends before it starts";
    mock.on("admin_update_user", new BackendError("bad_request", message));
    fireEvent.click(within(row(agent.name)).getByTestId("user-edit"));
    const dialog = screen.getByTestId("user-edit-dialog");
    fireEvent.click(within(dialog).getByTestId("edit-shifts-set"));
    fireEvent.change(within(within(dialog).getByTestId("shift-hours-monday")).getByTestId("interval-start"), { target: { value: "18:00" } });
    fireEvent.click(within(dialog).getByTestId("edit-save"));
    await eventually(() => expect(within(dialog).getByTestId("edit-error").textContent).toBe(en["error.bad_request"].replace("{message}", message)));
    const sent = Object.values(mock.callsTo("admin_update_user")[0]!.args)[1] as { shifts: { monday: unknown } };
    expect(sent.shifts.monday).toEqual([{ start_minute: 1080, end_minute: 1020 }]);
    expect(within(row(agent.name)).queryByTestId("user-shifts")).toBeNull();
  });

  it("disables after confirmation and enables again", async () => {
    const { mock } = await openUsers();
    const agent = directory().users.find((u) => u.role === "agent")!;
    mock.on("admin_disable_user", null).on("admin_enable_user", null);
    fireEvent.click(within(row(agent.name)).getByTestId("user-disable"));
    fireEvent.click(screen.getByTestId("user-confirm"));
    await eventually(() => expect(row(agent.name).dataset.active).toBe("false"));
    expect(Object.values(mock.callsTo("admin_disable_user")[0]!.args)).toEqual([agent.id]);
    fireEvent.click(within(row(agent.name)).getByTestId("user-enable"));
    fireEvent.click(screen.getByTestId("user-confirm"));
    await eventually(() => expect(row(agent.name).dataset.active).toBe("true"));
    expect(Object.values(mock.callsTo("admin_enable_user")[0]!.args)).toEqual([agent.id]);
  });

  it("resets a password (link shown once) and a second factor", async () => {
    const { mock } = await openUsers();
    const agent = directory().users.find((u) => u.role === "agent")!;
    mock.on("admin_reset_password", { one_time_password: null, invite_link: "https://desk.shop.example/invite/reset1" });
    mock.on("admin_reset_totp", agent);
    fireEvent.click(within(row(agent.name)).getByTestId("user-reset-password"));
    const dialog = screen.getByTestId("reset-password-dialog");
    fireEvent.click(within(dialog).getByTestId("reset-password-confirm"));
    await eventually(() => expect(within(dialog).getByTestId("reset-secret-value").textContent).toBe("https://desk.shop.example/invite/reset1"));
    expect(Object.values(mock.callsTo("admin_reset_password")[0]!.args)).toEqual([agent.id, "link"]);
    fireEvent.click(within(dialog).getByTestId("reset-password-close"));

    fireEvent.click(within(row(agent.name)).getByTestId("user-reset-totp"));
    fireEvent.click(screen.getByTestId("user-confirm"));
    await eventually(() => expect(screen.getByTestId("users-notice").textContent).toBe(`The second factor of ${agent.name} was reset.`));
    expect(Object.values(mock.callsTo("admin_reset_totp")[0]!.args)).toEqual([agent.id]);
  });

  it("shows each person's second factor as the server tells it, and a missing required one", async () => {
    const mock = adminBackend();
    const people = directory().users;
    const [first, second] = people;
    // Answered for the admin's list only; a person the server did not list stays unknown.
    mock.on("admin_users", people.slice(0, 2).map((u, i) => ({ ...u, totp_enabled: i === 0 })));
    const view = orgSettingsView();
    const org = view.settings.organisation.settings;
    if (org.kind === "organisation") org.doc.require_two_factor = true;
    mock.on("org_settings", view);
    mock.on("admin_reset_totp", first!);
    const ctx = await deskContext(mock);
    renderInDesk(ctx, () => <UsersScreen />);
    const factor = (name: string) => within(row(name)).getByTestId("user-totp");
    await eventually(() => expect(factor(second!.name).dataset.state).toBe("missing"));
    expect(factor(second!.name).textContent).toBe(en["adminUsers.totp_missing"]);
    expect(factor(first!.name).dataset.state).toBe("on");
    expect(factor(first!.name).textContent).toBe(en["adminUsers.totp_on"]);
    if (people[2]) expect(factor(people[2].name).dataset.state).toBe("unknown");
    expect(screen.getByText(en["adminUsers.second_factor"])).toBeTruthy();

    // A reset second factor is missing at once.
    fireEvent.click(within(row(first!.name)).getByTestId("user-reset-totp"));
    fireEvent.click(screen.getByTestId("user-confirm"));
    await eventually(() => expect(factor(first!.name).dataset.state).toBe("missing"));
  });

  it("says a second factor is not set up when the organisation does not require one", async () => {
    const mock = adminBackend();
    const [first] = directory().users;
    mock.on("admin_users", [{ ...first!, totp_enabled: false }]);
    const ctx = await deskContext(mock);
    renderInDesk(ctx, () => <UsersScreen />);
    const factor = () => within(row(first!.name)).getByTestId("user-totp");
    await eventually(() => expect(factor().dataset.state).toBe("off"));
    expect(factor().textContent).toBe(en["adminUsers.totp_off"]);
  });

  it("leaves second factors unknown offline, and says why", async () => {
    const mock = adminBackend();
    mock.on("admin_users", recordedError("admin_intake_keys.offline"));
    const ctx = await deskContext(mock);
    renderInDesk(ctx, () => <UsersScreen />);
    const [first] = directory().users;
    await eventually(() => expect(within(row(first!.name)).getByTestId("user-totp").title).toBe(en["adminUsers.offline"]));
    expect(within(row(first!.name)).getByTestId("user-totp").dataset.state).toBe("unknown");
  });

  it("reads skills the way people type them", () => {
    expect(parseSkills(" refunds, pt，英语\nrefunds ,, ")).toEqual(["refunds", "pt", "英语"]);
  });
});
