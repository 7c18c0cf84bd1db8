import { describe, expect, it } from "vitest";
import { fireEvent, screen, within } from "@solidjs/testing-library";
import { eventually } from "../../test/helpers";
import { adminBackend, lastArgs, renderAdmin, RETIRED_KYC, sampleView, withOwnCategories } from "./testing";
import type { SlaSettings } from "./model";

async function openSla() {
  const mock = adminBackend();
  await renderAdmin(mock, "sla");
  const rows = await eventually(() => {
    const r = screen.getAllByTestId("sla-policy");
    expect(r).toHaveLength(2);
    return r;
  });
  return { mock, rows };
}

describe("SLA policies", () => {
  it("scopes to categories in use, and shows a retired one a policy already names, marked", async () => {
    const view = withOwnCategories();
    (view.settings.sla.settings.doc as SlaSettings).policies[1]!.category = "kyc_review";
    await renderAdmin(adminBackend(view), "sla");
    const rows = await eventually(() => {
      const r = screen.getAllByTestId("sla-policy");
      expect(r).toHaveLength(2);
      return r;
    });
    const options = (row: HTMLElement) => {
      const select = within(row).getByTestId("sla-category") as HTMLSelectElement;
      return { select, names: [...select.options].map((o) => o.textContent), values: [...select.options].map((o) => o.value) };
    };
    const scoped = options(rows[1]!);
    expect(scoped.select.value).toBe("kyc_review");
    expect(scoped.names).toContain(RETIRED_KYC);
    const open = options(rows[0]!);
    expect(open.names).toContain("Merchant onboarding");
    expect(open.values).not.toContain("kyc_review");
  });

  it("shows how many open tickets' deadlines changed targets move, before saving", async () => {
    const { mock, rows } = await openSla();
    mock.on("calendar_effect", { open: 40, moved: 7 });
    expect(screen.getByTestId("sla-effect").dataset.state).toBe("none");
    fireEvent.change(within(rows[1]!).getByTestId("sla-resolution-h"), { target: { value: "24" } });
    await eventually(() => expect(screen.getByTestId("sla-effect").textContent).toBe("If saved, 7 of 40 open tickets' deadlines move."));
    // The Desk was asked about the draft, with the new target.
    const asked = lastArgs(mock, "calendar_effect") as { sla: SlaSettings };
    expect(asked.sla.policies[1]!.resolution_minutes).toBe(24 * 60);
    expect(asked.sla.calendar.tz).toBe("Asia/Shanghai");

    fireEvent.click(screen.getByTestId("admin-save"));
    await eventually(() => expect(mock.callsTo("change_settings")).toHaveLength(1));
    await eventually(() => expect(screen.getByTestId("sla-effect").dataset.state).toBe("none"));
  });

  it("says when the effect of changed targets cannot be counted", async () => {
    const { mock, rows } = await openSla();
    mock.on("calendar_effect", new (await import("../../backend")).BackendError("invalid", "sla: policy `P1`: targets must be positive"));
    fireEvent.change(within(rows[0]!).getByTestId("sla-first_response-m"), { target: { value: "0" } });
    fireEvent.change(within(rows[0]!).getByTestId("sla-first_response-h"), { target: { value: "0" } });
    await eventually(() => expect(screen.getByTestId("sla-effect").dataset.state).toBe("failed"));
    expect(screen.getByTestId("sla-effect").textContent).toContain("targets must be positive");
  });

  it("shows targets as hours and minutes", async () => {
    const { rows } = await openSla();
    expect(within(rows[0]!).getByTestId("sla-first_response-text").textContent).toBe("15 min");
    expect(within(rows[0]!).getByTestId("sla-resolution-text").textContent).toBe("2 h");
    expect(within(rows[1]!).getByTestId("sla-resolution-text").textContent).toBe("45 h");
    expect(within(rows[1]!).getByTestId("sla-periodic_update-text").textContent).toBe("—");
    expect((screen.getByTestId("sla-warn-share") as HTMLInputElement).value).toBe("75");
  });

  it("edits a target, narrows a new policy and saves the document", async () => {
    const { mock, rows } = await openSla();
    const p1 = rows[0]!;
    fireEvent.change(within(p1).getByTestId("sla-first_response-h"), { target: { value: "1" } });
    fireEvent.change(within(p1).getByTestId("sla-first_response-m"), { target: { value: "30" } });
    await eventually(() => expect(within(p1).getByTestId("sla-first_response-text").textContent).toBe("1 h 30 min"));

    fireEvent.click(screen.getByTestId("sla-add"));
    const added = await eventually(() => {
      const r = screen.getAllByTestId("sla-policy");
      expect(r).toHaveLength(3);
      return r[2]!;
    });
    fireEvent.input(within(added).getByTestId("sla-name"), { target: { value: "VIP takeover" } });
    fireEvent.change(within(added).getByTestId("sla-priority"), { target: { value: "P1" } });
    fireEvent.change(within(added).getByTestId("sla-category"), { target: { value: "account_takeover" } });
    fireEvent.change(within(added).getByTestId("sla-tier"), { target: { value: "vip" } });
    fireEvent.change(within(added).getByTestId("sla-first_response-h"), { target: { value: "0" } });
    fireEvent.change(within(added).getByTestId("sla-first_response-m"), { target: { value: "5" } });
    fireEvent.click(within(added).getByTestId("sla-business-hours"));
    fireEvent.change(screen.getByTestId("sla-warn-share"), { target: { value: "80" } });
    fireEvent.click(screen.getByTestId("admin-save"));

    await eventually(() => expect(mock.callsTo("change_settings")).toHaveLength(1));
    const args = lastArgs(mock, "change_settings") as { baseVersion: number; settings: { kind: string; doc: SlaSettings } };
    expect(args.baseVersion).toBe(3);
    expect(args.settings.kind).toBe("sla");
    const expected = (sampleView().settings.sla.settings.doc as SlaSettings);
    expect(args.settings.doc.calendar).toEqual(expected.calendar);
    expect(args.settings.doc.warn_share).toBe(0.8);
    expect(args.settings.doc.policies[0]).toEqual({ ...expected.policies[0], first_response_minutes: 90 });
    expect(args.settings.doc.policies[2]).toEqual({
      name: "VIP takeover",
      priority: "P1",
      category: "account_takeover",
      tier: "vip",
      first_response_minutes: 5,
      periodic_update_minutes: null,
      resolution_minutes: 480,
      business_hours: false,
    });
  });

  it("removes a policy and shows the Desk's refusal", async () => {
    const { mock, rows } = await openSla();
    mock.failNext("change_settings", "invalid", "sla: policies `P1` and `P1 copy` apply to exactly the same tickets; remove or narrow one of them");
    fireEvent.click(within(rows[1]!).getByTestId("sla-remove"));
    await eventually(() => expect(screen.getAllByTestId("sla-policy")).toHaveLength(1));
    fireEvent.click(screen.getByTestId("admin-save"));
    await eventually(() => expect(screen.getByTestId("admin-save-status").textContent).toContain("apply to exactly the same tickets"));
    const args = lastArgs(mock, "change_settings") as { settings: { doc: SlaSettings } };
    expect(args.settings.doc.policies.map((p) => p.name)).toEqual(["P1"]);
  });
});
