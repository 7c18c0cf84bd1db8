import { describe, expect, it } from "vitest";
import { fireEvent, screen, within } from "@solidjs/testing-library";
import { en } from "../../i18n/en";
import { eventually } from "../../test/helpers";
import { adminBackend, answerView, lastArgs, renderAdmin, sampleView } from "./testing";
import type { Catalogue } from "./model";

async function openCatalogue() {
  const mock = adminBackend();
  await renderAdmin(mock, "catalogue");
  await eventually(() => screen.getByTestId("catalogue-categories"));
  return mock;
}

const saved = (mock: ReturnType<typeof adminBackend>) => (lastArgs(mock, "change_settings") as { settings: { doc: Catalogue } }).settings.doc;

describe("categories and tags", () => {
  it("renames and retires categories, adds and retires tags, and saves", async () => {
    const mock = await openCatalogue();
    const complaint = screen.getByTestId("category-complaint");
    fireEvent.input(within(complaint).getByTestId("category-label-en"), { target: { value: "Grievance" } });
    fireEvent.input(within(complaint).getByTestId("category-label-zh"), { target: { value: "申诉" } });
    const kyc = screen.getByTestId("category-kyc_review");
    fireEvent.click(within(kyc).getByTestId("category-toggle"));
    await eventually(() => expect(within(kyc).getByTestId("category-state").textContent).toBe(en["admin.retired"]));
    expect(within(kyc).getByTestId("category-toggle").textContent).toBe(en["admin.restore"]);

    fireEvent.input(screen.getByTestId("tag-new"), { target: { value: "chargeback" } });
    fireEvent.click(screen.getByTestId("tag-add"));
    await eventually(() => expect(screen.getAllByTestId("tag")).toHaveLength(2));
    const vip = screen.getAllByTestId("tag").find((x) => x.dataset.tag === "vip")!;
    fireEvent.click(within(vip).getByTestId("tag-toggle"));
    fireEvent.click(screen.getByTestId("admin-save"));

    await eventually(() => expect(mock.callsTo("change_settings")).toHaveLength(1));
    expect(lastArgs(mock, "change_settings").baseVersion).toBe(0);
    expect((lastArgs(mock, "change_settings").settings as { kind: string }).kind).toBe("catalogue");
    expect(saved(mock)).toEqual({
      categories: [
        { category: "complaint", label_en: "Grievance", label_zh: "申诉", retired: false },
        { category: "kyc_review", label_en: "", label_zh: "", retired: true },
      ],
      tags: [
        { tag: "vip", retired: true },
        { tag: "chargeback", retired: false },
      ],
    });
  });

  it("restores a retired tag instead of listing it twice", async () => {
    const mock = await openCatalogue();
    const vip = screen.getAllByTestId("tag")[0]!;
    fireEvent.click(within(vip).getByTestId("tag-toggle"));
    fireEvent.input(screen.getByTestId("tag-new"), { target: { value: "vip" } });
    fireEvent.click(screen.getByTestId("tag-add"));
    fireEvent.click(screen.getByTestId("admin-save"));
    await eventually(() => expect(mock.callsTo("change_settings")).toHaveLength(1));
    expect(saved(mock).tags).toEqual([{ tag: "vip", retired: false }]);
  });

  it("shows the Desk's refusal", async () => {
    const mock = await openCatalogue();
    mock.failNext("change_settings", "invalid", 'tags: "Charge Back" must be written in lower case without spaces');
    fireEvent.input(screen.getByTestId("tag-new"), { target: { value: "Charge Back" } });
    fireEvent.click(screen.getByTestId("tag-add"));
    fireEvent.click(screen.getByTestId("admin-save"));
    await eventually(() => expect(screen.getByTestId("admin-save-status").textContent).toContain("must be written in lower case without spaces"));
    expect(saved(mock).tags).toContainEqual({ tag: "Charge Back", retired: false });
  });
});

describe("an organisation's own categories", () => {
  const fill = (code: string, en_: string, zh: string) => {
    fireEvent.input(screen.getByTestId("category-new-code"), { target: { value: code } });
    fireEvent.input(screen.getByTestId("category-new-en"), { target: { value: en_ } });
    fireEvent.input(screen.getByTestId("category-new-zh"), { target: { value: zh } });
  };

  it("adds one with its code and both names, saved on the catalogue the Desk holds", async () => {
    const mock = await openCatalogue();
    const add = screen.getByTestId("category-add") as HTMLButtonElement;
    expect(add.textContent).toBe(en["admin.catalogue.add_category"]);
    fill("merchant_onboarding", "Merchant onboarding", "");
    expect(add.disabled).toBe(true);
    // The Desk answers with the catalogue that now lists it.
    const after = sampleView();
    const doc = after.settings.catalogue.settings;
    if (doc.kind !== "catalogue") throw new Error("the sample catalogue");
    const entry = { category: "merchant_onboarding", label_en: "Merchant onboarding", label_zh: "商户入驻", retired: false };
    doc.doc.categories.push(entry);
    // The Desk lists it after the product's categories (the table draws its rows from that list).
    after.categories.push(entry);
    after.settings.catalogue.version = 1;
    answerView(mock, after);
    fill("merchant_onboarding", "Merchant onboarding", "商户入驻");
    fireEvent.click(add);

    await eventually(() => expect(mock.callsTo("change_settings")).toHaveLength(1));
    expect(lastArgs(mock, "change_settings").baseVersion).toBe(0);
    expect(saved(mock)).toEqual({
      categories: [{ category: "merchant_onboarding", label_en: "Merchant onboarding", label_zh: "商户入驻", retired: false }],
      tags: [{ tag: "vip", retired: false }],
    });
    await eventually(() => expect(screen.getByTestId("category-add-status").dataset.state).toBe("saved"));
    expect((screen.getByTestId("category-new-code") as HTMLInputElement).value).toBe("");
    const row = await eventually(() => screen.getByTestId("category-merchant_onboarding"));
    expect(within(row).getByText("merchant_onboarding")).toBeTruthy();
    expect((within(row).getByTestId("category-label-zh") as HTMLInputElement).value).toBe("商户入驻");
    // Renamed and retired like the product's own.
    fireEvent.click(within(row).getByTestId("category-toggle"));
    fireEvent.click(screen.getByTestId("admin-save"));
    await eventually(() => expect(mock.callsTo("change_settings")).toHaveLength(2));
    expect(lastArgs(mock, "change_settings").baseVersion).toBe(1);
    expect(saved(mock).categories).toEqual([{ category: "merchant_onboarding", label_en: "Merchant onboarding", label_zh: "商户入驻", retired: true }]);
  });

  it("shows the Desk's refusal of a bad code beside the form and keeps what was typed", async () => {
    const mock = await openCatalogue();
    const reason = 'invalid args `settings`: "Merchant Onboarding" is not a category code: use 2 to 40 lowercase letters, digits or _ (such as merchant_onboarding)';
    mock.failNext("change_settings", "invalid", reason);
    fill("Merchant Onboarding", "Merchant onboarding", "商户入驻");
    fireEvent.click(screen.getByTestId("category-add"));
    await eventually(() => expect(screen.getByTestId("category-add-status").dataset.state).toBe("refused"));
    expect(screen.getByTestId("category-add-status").textContent).toContain("is not a category code");
    expect((screen.getByTestId("category-new-code") as HTMLInputElement).value).toBe("Merchant Onboarding");
    expect(screen.queryByTestId("category-Merchant Onboarding")).toBeNull();
    // The draft of the other categories is untouched.
    expect(screen.getByTestId("admin-save").hasAttribute("disabled")).toBe(true);
  });
});
