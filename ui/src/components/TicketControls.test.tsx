import { afterEach, describe, expect, it } from "vitest";
import { fireEvent, screen } from "@solidjs/testing-library";
import { TicketControls } from "./TicketControls";
import { deskContext, eventually, mockBackend, renderInDesk } from "../test/helpers";
import type { Mutation, TicketDetail } from "../backend";
import { recorded, type FakeBackend } from "../backend/mock";
import { en } from "../i18n/en";
import { setLang } from "../i18n";
import { loadCatalogue } from "../lib/categories";
import { ownCategoriesView } from "../test/admin";

/** The fake with the organisation's own `merchant_onboarding` and a retired `kyc_review`. */
async function withOwnCategory(): Promise<FakeBackend> {
  const mock = mockBackend();
  mock.on("org_settings", ownCategoriesView());
  await loadCatalogue(mock);
  return mock;
}

async function renderControls(mock: FakeBackend, category: string) {
  const detail = recorded<TicketDetail>("ticket.plain");
  detail.ticket.category = category;
  const sent: Mutation[] = [];
  renderInDesk(await deskContext(mock), () => (
    <TicketControls
      ticket={detail.ticket}
      onChange={async (m) => {
        sent.push(m);
        return true;
      }}
    />
  ));
  const select = (await eventually(() => screen.getByTestId("category-select"))) as HTMLSelectElement;
  return { select, sent, ticketId: detail.ticket.id };
}

const names = (select: HTMLSelectElement) => [...select.options].map((o) => o.textContent);

describe("the ticket's category select", () => {
  afterEach(async () => {
    setLang("en");
    await loadCatalogue(mockBackend());
  });

  it("offers the organisation's own category by its name in the desk's language", async () => {
    const { select, sent, ticketId } = await renderControls(await withOwnCategory(), "inquiry");
    expect(names(select)).toContain("Merchant onboarding");
    expect(names(select)).not.toContain(en["category.kyc_review"]);
    fireEvent.change(select, { target: { value: "merchant_onboarding" } });
    await eventually(() => expect(sent).toHaveLength(1));
    expect(sent[0]).toEqual({ name: "ticket.set_category", args: { ticket_id: ticketId, category: "merchant_onboarding" } });
    setLang("zh-CN");
    await eventually(() => expect(names(select)).toContain("商户入驻"));
  });

  it("keeps showing a category retired since the ticket was filed under it", async () => {
    const { select } = await renderControls(await withOwnCategory(), "kyc_review");
    expect(select.value).toBe("kyc_review");
    expect(names(select)[0]).toBe(en["category.kyc_review"]);
    expect(names(select).filter((n) => n === en["category.kyc_review"])).toHaveLength(1);
  });

  it("offers only the product's categories before the catalogue names any other", async () => {
    const { select } = await renderControls(mockBackend(), "inquiry");
    expect(names(select)).not.toContain("Merchant onboarding");
    expect(names(select)).toContain(en["category.feature_request"]);
  });
});
