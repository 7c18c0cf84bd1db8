import { describe, expect, it } from "vitest";
import { fireEvent, screen, within } from "@solidjs/testing-library";
import { en } from "../../i18n/en";
import { eventually } from "../../test/helpers";
import { adminBackend, lastArgs, renderAdmin, RETIRED_KYC, sampleView, withOwnCategories } from "./testing";
import type { AdminTemplate } from "./model";

async function openTemplates() {
  const mock = adminBackend();
  await renderAdmin(mock, "templates");
  const rows = await eventually(() => {
    const r = screen.getAllByTestId("template-row");
    expect(r).toHaveLength(2);
    return r;
  });
  return { mock, rows };
}

describe("templates and macros", () => {
  it("offers categories in use, and keeps a retired one a template already has, marked", async () => {
    const view = withOwnCategories();
    view.templates[0]!.categories = ["kyc_review"];
    await renderAdmin(adminBackend(view), "templates");
    const rows = await eventually(() => {
      const r = screen.getAllByTestId("template-row");
      expect(r).toHaveLength(2);
      return r;
    });
    fireEvent.click(within(rows.find((r) => r.dataset.id === view.templates[0]!.id)!).getByTestId("template-edit"));
    const form = await eventually(() => screen.getByTestId("template-form"));
    const retired = within(form).getByTestId("template-category-kyc_review") as HTMLInputElement;
    expect(retired.checked).toBe(true);
    expect(retired.parentElement!.textContent).toBe(RETIRED_KYC);
    expect(within(form).getByTestId("template-category-merchant_onboarding").parentElement!.textContent).toBe("Merchant onboarding");

    fireEvent.click(within(form).getByTestId("template-cancel"));
    fireEvent.click(screen.getByTestId("template-new"));
    const fresh = await eventually(() => screen.getByTestId("template-form"));
    expect(within(fresh).queryByTestId("template-category-kyc_review")).toBeNull();
    expect(within(fresh).getByTestId("template-category-merchant_onboarding")).toBeTruthy();
  });

  it("lists templates and macros per language", async () => {
    const { rows } = await openTemplates();
    const macro = rows.find((r) => r.dataset.id === sampleView().templates[1]!.id)!;
    expect(macro.textContent).toContain(en["admin.templates.is_macro"]);
    fireEvent.change(screen.getByTestId("templates-language"), { target: { value: "zh-CN" } });
    await eventually(() => expect(screen.getAllByTestId("template-row")).toHaveLength(1));
  });

  it("writes a new macro with placeholder buttons and field changes", async () => {
    const { mock } = await openTemplates();
    fireEvent.click(screen.getByTestId("template-new"));
    const form = await eventually(() => screen.getByTestId("template-form"));
    fireEvent.input(within(form).getByTestId("template-name"), { target: { value: "Refund on its way" } });
    const body = within(form).getByTestId("template-body") as HTMLTextAreaElement;
    fireEvent.input(body, { target: { value: "Hello , your refund for  is on its way." } });
    body.setSelectionRange(6, 6);
    fireEvent.click(within(form).getByTestId("placeholder-customer.name"));
    await eventually(() => expect(body.value).toBe("Hello {{customer.name}}, your refund for  is on its way."));
    body.setSelectionRange(41, 41);
    fireEvent.click(within(form).getByTestId("placeholder-ticket.key"));
    await eventually(() => expect(body.value).toBe("Hello {{customer.name}}, your refund for {{ticket.key}} is on its way."));
    fireEvent.click(within(form).getByTestId("template-category-funds_not_arrived"));
    fireEvent.change(within(form).getByTestId("template-status"), { target: { value: "pending" } });
    fireEvent.change(within(form).getByTestId("template-priority"), { target: { value: "P3" } });
    fireEvent.change(within(form).getByTestId("template-tags"), { target: { value: "refund, waiting_bank" } });
    fireEvent.click(within(form).getByTestId("template-save"));

    await eventually(() => expect(mock.callsTo("put_template")).toHaveLength(1));
    const { template } = lastArgs(mock, "put_template") as { template: AdminTemplate };
    expect(template.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(template).toEqual({
      id: template.id,
      name: "Refund on its way",
      language: "en",
      body: "Hello {{customer.name}}, your refund for {{ticket.key}} is on its way.",
      categories: ["funds_not_arrived"],
      changes: { status: "pending", priority: "P3", add_tags: ["refund", "waiting_bank"] },
      active: true,
    });
    await eventually(() => expect(screen.queryByTestId("template-form")).toBeNull());
  });

  it("edits an existing template in its language and retires another", async () => {
    const { mock, rows } = await openTemplates();
    const [guide, macro] = sampleView().templates;
    const guideRow = rows.find((r) => r.dataset.id === guide!.id)!;
    fireEvent.click(within(guideRow).getByTestId("template-edit"));
    const form = await eventually(() => screen.getByTestId("template-form"));
    expect((within(form).getByTestId("template-body") as HTMLTextAreaElement).value).toBe(guide!.body);
    fireEvent.change(within(form).getByTestId("template-language"), { target: { value: "zh-CN" } });
    fireEvent.input(within(form).getByTestId("template-name"), { target: { value: "重置密码指南" } });
    fireEvent.click(within(form).getByTestId("template-save"));
    await eventually(() => expect(mock.callsTo("put_template")).toHaveLength(1));
    expect(lastArgs(mock, "put_template")).toEqual({ template: { ...guide, language: "zh-CN", name: "重置密码指南" } });

    const macroRow = screen.getAllByTestId("template-row").find((r) => r.dataset.id === macro!.id)!;
    fireEvent.click(within(macroRow).getByTestId("template-toggle"));
    await eventually(() => expect(mock.callsTo("put_template")).toHaveLength(2));
    expect(lastArgs(mock, "put_template")).toEqual({ template: { ...macro, active: false } });
  });

  it("adds the other language of a macro with its name and field changes", async () => {
    const { mock, rows } = await openTemplates();
    const macro = sampleView().templates[1]!;
    fireEvent.click(within(rows.find((r) => r.dataset.id === macro.id)!).getByTestId("template-translate"));
    const form = await eventually(() => screen.getByTestId("template-form"));
    expect((within(form).getByTestId("template-language") as HTMLSelectElement).value).toBe("en");
    expect((within(form).getByTestId("template-name") as HTMLInputElement).value).toBe(macro.name);
    expect((within(form).getByTestId("template-body") as HTMLTextAreaElement).value).toBe("");
    fireEvent.input(within(form).getByTestId("template-body"), { target: { value: "Hello {{customer.name}}, this is solved." } });
    fireEvent.click(within(form).getByTestId("template-save"));
    await eventually(() => expect(mock.callsTo("put_template")).toHaveLength(1));
    const { template } = lastArgs(mock, "put_template") as { template: AdminTemplate };
    expect(template.id).not.toBe(macro.id);
    expect(template).toEqual({ ...macro, id: template.id, language: "en", body: "Hello {{customer.name}}, this is solved." });
  });

  it("restores a retired template", async () => {
    const view = sampleView();
    view.templates[0]!.active = false;
    const mock = adminBackend(view);
    await renderAdmin(mock, "templates");
    const row = await eventually(() => screen.getAllByTestId("template-row").find((r) => r.dataset.id === view.templates[0]!.id)!);
    expect(within(row).getByTestId("template-toggle").textContent).toBe(en["admin.restore"]);
    fireEvent.click(within(row).getByTestId("template-toggle"));
    await eventually(() => expect(mock.callsTo("put_template")).toHaveLength(1));
    expect((lastArgs(mock, "put_template") as { template: AdminTemplate }).template.active).toBe(true);
  });

  it("keeps the form open with the Desk's refusal", async () => {
    const { mock } = await openTemplates();
    mock.failNext("put_template", "invalid", "body: unknown placeholder {{customer.phone}}; known: customer.name, ticket.key, ticket.subject, agent.name");
    fireEvent.click(screen.getByTestId("template-new"));
    const form = await eventually(() => screen.getByTestId("template-form"));
    fireEvent.input(within(form).getByTestId("template-name"), { target: { value: "Call back" } });
    fireEvent.input(within(form).getByTestId("template-body"), { target: { value: "We will call {{customer.phone}}" } });
    fireEvent.click(within(form).getByTestId("template-save"));
    await eventually(() => expect(screen.getByTestId("template-status-line").textContent).toContain("unknown placeholder {{customer.phone}}"));
    expect(screen.getByTestId("template-form")).toBeTruthy();
  });
});
