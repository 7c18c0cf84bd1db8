import { afterEach, describe, expect, it } from "vitest";
import { fireEvent, screen, within } from "@solidjs/testing-library";
import { NewTicketDialog } from "./NewTicket";
import { deskContext, eventually, mockBackend, renderInDesk } from "../test/helpers";
import { adminBackend, adminMe, ownCategoriesView } from "../test/admin";
import type { Directory, Me, NewTicket, OrgSettingsView } from "../backend";
import { recorded, type FakeBackend } from "../backend/mock";
import { en } from "../i18n/en";
import { loadCatalogue } from "../lib/categories";

async function openDialog(mock: FakeBackend) {
  mock.on("change", recorded("change.create"));
  renderInDesk(await deskContext(mock), () => <NewTicketDialog onClose={() => undefined} onCreated={() => undefined} />);
  return screen.getByTestId("new-ticket");
}

async function fillAndCreate(dialog: HTMLElement) {
  fireEvent.input(within(dialog).getByTestId("new-subject"), { target: { value: "Card blocked abroad" } });
  fireEvent.input(within(dialog).getByTestId("new-name"), { target: { value: "Ana Costa" } });
  fireEvent.input(within(dialog).getByTestId("new-contact"), { target: { value: "+351 912 000 000" } });
  fireEvent.click(within(dialog).getByTestId("new-create"));
}

const created = (mock: FakeBackend) => (mock.callsTo("change")[0]!.args.mutation as { args: NewTicket }).args;

describe("a new ticket's department", () => {
  it("is the creator's own department, by name, with no way to leave it in none", async () => {
    const mock = mockBackend();
    const dialog = await openDialog(mock);
    const select = within(dialog).getByTestId("new-department") as HTMLSelectElement;
    const me = recorded<Me>("me.agent");
    const departments = recorded<Directory>("directory").departments;
    expect(select.value).toBe(me.user.departments[0]);
    expect([...select.options].map((o) => o.textContent)).toEqual(departments.filter((d) => d.active).map((d) => d.name));
    await fillAndCreate(dialog);
    await eventually(() => expect(mock.callsTo("change")).toHaveLength(1));
    expect(created(mock).department).toBe(me.user.departments[0]);
    expect(mock.callsTo("org_settings")).toHaveLength(0);
  });

  it("is the organisation's default department for a creator who works in none", async () => {
    expect(adminMe().user.departments).toEqual([]);
    const mock = adminBackend();
    const view = recorded<OrgSettingsView>("org_settings");
    const profile = view.settings.organisation.settings;
    if (profile.kind !== "organisation") throw new Error("the recorded organisation document");
    profile.doc.default_department = "risk";
    mock.on("org_settings", view);
    const dialog = await openDialog(mock);
    await eventually(() => expect((within(dialog).getByTestId("new-department") as HTMLSelectElement).value).toBe("risk"));
    await fillAndCreate(dialog);
    await eventually(() => expect(mock.callsTo("change")).toHaveLength(1));
    expect(created(mock).department).toBe("risk");
  });

  it("must be chosen when neither the creator nor the organisation names one", async () => {
    const mock = adminBackend();
    const view = recorded<OrgSettingsView>("org_settings");
    const profile = view.settings.organisation.settings;
    if (profile.kind !== "organisation") throw new Error("the recorded organisation document");
    profile.doc.default_department = null;
    mock.on("org_settings", view);
    const dialog = await openDialog(mock);
    await eventually(() => expect(mock.callsTo("org_settings")).toHaveLength(1));
    const select = within(dialog).getByTestId("new-department") as HTMLSelectElement;
    expect(select.value).toBe("");
    expect(select.options[0]!.textContent).toBe(en["newticket.pick_department"]);
    await fillAndCreate(dialog);
    expect(within(dialog).getByTestId("new-error").textContent).toBe(en["newticket.department_required"]);
    expect(mock.callsTo("change")).toHaveLength(0);
    fireEvent.change(select, { target: { value: "finance" } });
    fireEvent.click(within(dialog).getByTestId("new-create"));
    await eventually(() => expect(mock.callsTo("change")).toHaveLength(1));
    expect(created(mock).department).toBe("finance");
  });
});

describe("a new ticket's category", () => {
  afterEach(async () => {
    await loadCatalogue(mockBackend());
  });

  it("is one the organisation uses: its own by its name, not a retired one", async () => {
    const mock = mockBackend();
    mock.on("org_settings", ownCategoriesView());
    await loadCatalogue(mock);
    const dialog = await openDialog(mock);
    const select = within(dialog).getByTestId("new-category") as HTMLSelectElement;
    const names = [...select.options].map((o) => o.textContent);
    expect(names).toContain("Merchant onboarding");
    expect(names).toContain(en["category.inquiry"]);
    expect(names).not.toContain(en["category.kyc_review"]);
    expect(select.value).toBe("inquiry");
    fireEvent.change(select, { target: { value: "merchant_onboarding" } });
    await fillAndCreate(dialog);
    await eventually(() => expect(mock.callsTo("change")).toHaveLength(1));
    expect(created(mock).category).toBe("merchant_onboarding");
  });
});
