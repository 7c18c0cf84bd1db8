import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { fireEvent, render, screen } from "@solidjs/testing-library";
import { App } from "../../App";
import { en } from "../../i18n/en";
import { eventually, stubViewport, supervisorBackend } from "../../test/helpers";
import { recorded } from "../../backend/mock";
import { adminBackend, renderAdmin, sampleView } from "./testing";
import type { OrgSettingsView, RuleSet } from "./model";
import { ADMIN_TABS } from "./tabs";

let restoreViewport: () => void;
beforeEach(() => {
  restoreViewport = stubViewport(560);
  localStorage.clear();
});
afterEach(() => restoreViewport());

describe("the admin area", () => {
  it("is offered to admins only", async () => {
    const supervisor = supervisorBackend();
    const { unmount } = render(() => <App backend={supervisor} />);
    await eventually(() => screen.getByTestId("nav-audit"));
    expect(screen.queryByTestId("nav-admin")).toBeNull();
    // The desk reads the catalogue for category names; nothing of the admin area is shown.
    expect(screen.queryByTestId("admin-screen")).toBeNull();
    unmount();

    const admin = adminBackend();
    render(() => <App backend={admin} />);
    const nav = await eventually(() => screen.getByTestId("nav-admin"));
    expect(nav.textContent).toBe(en["nav.admin"]);
    fireEvent.click(nav);
    await eventually(() => screen.getByTestId("admin-screen"));
    await eventually(() => expect((screen.getByTestId("org-name") as HTMLInputElement).value).toBe("Lisboa Pay"));
    expect(screen.getByTestId("queue-list").closest(".is-hidden")).not.toBeNull();
    expect(admin.callsTo("org_settings").length).toBeGreaterThanOrEqual(1);
  });

  it("has a tab per screen and keeps an unsaved edit while another tab is shown", async () => {
    const mock = adminBackend();
    await renderAdmin(mock, "organisation");
    for (const tab of ADMIN_TABS) expect(screen.getByTestId(`admin-tab-${tab.id}`).textContent).toBe(en[tab.label]);
    const name = await eventually(() => screen.getByTestId("org-name") as HTMLInputElement);
    fireEvent.input(name, { target: { value: "Draft name" } });
    fireEvent.click(screen.getByTestId("admin-tab-departments"));
    await eventually(() => screen.getByTestId("departments-list"));
    expect(screen.getByTestId("admin-panel-organisation").classList.contains("is-hidden")).toBe(true);
    fireEvent.click(screen.getByTestId("admin-tab-organisation"));
    expect((screen.getByTestId("org-name") as HTMLInputElement).value).toBe("Draft name");
  });

  it("reads the settings again when the Desk reports changes, without losing an edit", async () => {
    const mock = adminBackend();
    const { ctx } = await renderAdmin(mock, "organisation");
    await eventually(() => screen.getByTestId("org-name"));
    const calls = mock.callsTo("org_settings").length;
    const newer = sampleView();
    newer.settings.organisation.version = 3;
    (newer.settings.organisation.settings.doc as { name: string }).name = "Renamed elsewhere";
    mock.on("org_settings", newer);
    // A notice about tickets only is not a reason to read the settings again.
    ctx.emit({ kind: "changes", notice: { tickets: ["0193a0e5-0000-7000-8000-0000000000aa"], revoked: [], everything: false } });
    ctx.emit({ kind: "changes", notice: { tickets: [], revoked: [], everything: false, reference: true } });
    await eventually(() => expect((screen.getByTestId("org-name") as HTMLInputElement).value).toBe("Renamed elsewhere"));
    expect(mock.callsTo("org_settings").length).toBe(calls + 1);

    // An edit in progress is kept when another change arrives.
    fireEvent.input(screen.getByTestId("org-name"), { target: { value: "Mine" } });
    ctx.emit({ kind: "changes", notice: { tickets: [], revoked: [], everything: true } });
    await eventually(() => expect(mock.callsTo("org_settings").length).toBe(calls + 2));
    expect((screen.getByTestId("org-name") as HTMLInputElement).value).toBe("Mine");
  });

  it("shows every tab on the settings a real Desk answered", async () => {
    const view = recorded<OrgSettingsView>("org_settings");
    const mock = adminBackend(view);
    await renderAdmin(mock, "organisation");
    const sections: Record<string, string> = {
      organisation: "admin-organisation",
      departments: "departments-list",
      calendar: "calendar-weekly",
      sla: "sla-policies",
      rules: "rules-list",
      catalogue: "catalogue-categories",
      verification: "verification-actions",
      templates: "templates-list",
    };
    for (const [tab, testid] of Object.entries(sections)) {
      fireEvent.click(screen.getByTestId(`admin-tab-${tab}`));
      await eventually(() => screen.getByTestId(testid));
    }
    const rules = (view.settings.rules.settings.doc as RuleSet).rules;
    expect(screen.getAllByTestId("rule")).toHaveLength(rules.length);
    expect(screen.getAllByTestId("department-row")).toHaveLength(view.departments.length);
    expect(screen.getAllByTestId("template-row")).toHaveLength(view.templates.length);
    expect(screen.getAllByTestId("sla-policy").length).toBeGreaterThan(0);
  });

  it("marks the documents with queued edits in the recorded view", async () => {
    const view = recorded<OrgSettingsView>("org_settings.after_changes");
    expect(view.pending).toContain("sla");
    await renderAdmin(adminBackend(view), "sla");
    await eventually(() => screen.getByTestId("admin-pending"));
  });

  it("says when the settings cannot be read", async () => {
    const mock = adminBackend();
    mock.failNext("org_settings", "cache", "cache unavailable");
    await renderAdmin(mock, "organisation");
    await eventually(() => expect(screen.getByTestId("admin-load-error").textContent).toBe(en["error.cache"]));
  });
});
