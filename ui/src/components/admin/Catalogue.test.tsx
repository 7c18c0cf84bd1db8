import { describe, expect, it } from "vitest";
import { fireEvent, screen, within } from "@solidjs/testing-library";
import { en } from "../../i18n/en";
import { eventually } from "../../test/helpers";
import { adminBackend, lastArgs, renderAdmin } from "./testing";
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
