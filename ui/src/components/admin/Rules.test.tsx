import { describe, expect, it } from "vitest";
import { fireEvent, screen, within } from "@solidjs/testing-library";
import { en } from "../../i18n/en";
import { eventually } from "../../test/helpers";
import { adminBackend, lastArgs, renderAdmin, RETIRED_KYC, sampleView, withOwnCategories } from "./testing";
import type { Classification, RuleSet } from "./model";

const CLASSIFIED: Classification = {
  category: "account_takeover",
  priority: "P1",
  risk: "L1",
  department: "risk",
  tags: ["security"],
  templates: [],
  matched_rules: ["account_takeover"],
  priority_bump: 0,
};

async function openRules() {
  const mock = adminBackend();
  mock.on("preview_rules", CLASSIFIED);
  await renderAdmin(mock, "rules");
  const rules = await eventually(() => {
    const r = screen.getAllByTestId("rule");
    expect(r).toHaveLength(3);
    return r;
  });
  return { mock, rules };
}

const sampleRules = () => sampleView().settings.rules.settings.doc as RuleSet;

describe("classification rules", () => {
  it("sets only categories in use, and shows a retired one a rule already sets, marked", async () => {
    const view = withOwnCategories();
    const doc = view.settings.rules.settings.doc as RuleSet;
    doc.rules[1]!.then.category = "kyc_review";
    const mock = adminBackend(view);
    mock.on("preview_rules", CLASSIFIED);
    await renderAdmin(mock, "rules");
    const rules = await eventually(() => {
      const r = screen.getAllByTestId("rule");
      expect(r).toHaveLength(3);
      return r;
    });
    const choices = async (rule: HTMLElement) => {
      fireEvent.click(within(rule).getByTestId("rule-open"));
      const select = (await eventually(() => within(rule).getByTestId("rule-category"))) as HTMLSelectElement;
      return { select, names: [...select.options].map((o) => o.textContent) };
    };
    const chosen = await choices(rules[1]!);
    expect(chosen.select.value).toBe("kyc_review");
    expect(chosen.names).toContain(RETIRED_KYC);
    expect(chosen.names).toContain("Merchant onboarding");
    const fresh = await choices(rules[0]!);
    expect(fresh.names).toContain("Merchant onboarding");
    expect(fresh.names).toContain(en["category.inquiry"]);
    expect(fresh.names).not.toContain(RETIRED_KYC);
    expect(fresh.names).not.toContain(en["category.kyc_review"]);
    expect([...fresh.select.options].map((o) => o.value)).not.toContain("kyc_review");
  });

  it("lists the rules in order with what they look for", async () => {
    const { rules } = await openRules();
    expect(rules.map((r) => r.dataset.name)).toEqual(["vip_priority_bump", "account_takeover", "large_abnormal"]);
    expect(rules[1]!.textContent).toContain("盗号, hacked");
    expect(rules[2]!.textContent).toContain(en["admin.rules.complex"]);
  });

  it("edits keywords, tiers, channels and actions, and saves the rule set", async () => {
    const { mock, rules } = await openRules();
    fireEvent.click(within(rules[1]!).getByTestId("rule-open"));
    const editor = await eventually(() => within(rules[1]!).getByTestId("rule-editor"));
    fireEvent.change(within(editor).getByTestId("rule-keywords-any"), { target: { value: "盗号，hacked, account stolen" } });
    fireEvent.click(within(editor).getByTestId("rule-channel-wechat"));
    fireEvent.change(within(editor).getByTestId("rule-priority"), { target: { value: "P2" } });
    fireEvent.change(within(editor).getByTestId("rule-tags"), { target: { value: "security, takeover" } });
    fireEvent.change(within(editor).getByTestId("rule-risk"), { target: { value: "" } });
    fireEvent.click(within(editor).getByTestId("rule-stop"));
    fireEvent.click(screen.getByTestId("admin-save"));

    await eventually(() => expect(mock.callsTo("change_settings")).toHaveLength(1));
    const args = lastArgs(mock, "change_settings") as { baseVersion: number; settings: { kind: string; doc: RuleSet } };
    expect(args.baseVersion).toBe(0);
    expect(args.settings.kind).toBe("rules");
    const [vip, takeover, abnormal] = args.settings.doc.rules;
    expect(vip).toEqual(sampleRules().rules[0]);
    expect(abnormal).toEqual(sampleRules().rules[2]);
    expect(takeover).toEqual({
      name: "account_takeover",
      when: { all: [{ keywords_any: ["盗号", "hacked", "account stolen"] }, { channel_in: ["wechat"] }] },
      then: { category: "account_takeover", priority: "P2", department: "risk", tags: ["security", "takeover"] },
      stop: true,
    });
  });

  it("edits a nested condition as JSON, and reorders and removes rules", async () => {
    const { mock, rules } = await openRules();
    fireEvent.click(within(rules[2]!).getByTestId("rule-open"));
    const json = await eventually(() => within(rules[2]!).getByTestId("rule-condition-json") as HTMLTextAreaElement);
    expect(JSON.parse(json.value)).toEqual(sampleRules().rules[2]!.when);
    fireEvent.change(json, { target: { value: "{not valid" } });
    await eventually(() => within(rules[2]!).getByTestId("rule-condition-json-error"));
    fireEvent.change(json, { target: { value: '{"any": [{"keywords_any": ["可疑交易"]}]}' } });
    fireEvent.click(within(rules[2]!).getByTestId("rule-up"));
    await eventually(() => expect(screen.getAllByTestId("rule").map((r) => r.dataset.name)).toEqual(["vip_priority_bump", "large_abnormal", "account_takeover"]));
    fireEvent.click(within(screen.getAllByTestId("rule")[0]!).getByTestId("rule-remove"));
    await eventually(() => expect(screen.getAllByTestId("rule")).toHaveLength(2));
    fireEvent.click(screen.getByTestId("admin-save"));
    await eventually(() => expect(mock.callsTo("change_settings")).toHaveLength(1));
    const doc = (lastArgs(mock, "change_settings") as { settings: { doc: RuleSet } }).settings.doc;
    expect(doc.rules.map((r) => r.name)).toEqual(["large_abnormal", "account_takeover"]);
    expect(doc.rules[0]!.when).toEqual({ any: [{ keywords_any: ["可疑交易"] }] });
  });

  it("tries the edited rules on a Chinese sample before saving", async () => {
    const { mock, rules } = await openRules();
    fireEvent.click(within(rules[1]!).getByTestId("rule-open"));
    const editor = await eventually(() => within(rules[1]!).getByTestId("rule-editor"));
    fireEvent.change(within(editor).getByTestId("rule-keywords-any"), { target: { value: "被盗" } });
    fireEvent.click(screen.getByTestId("rules-sample-zh"));
    expect((screen.getByTestId("rules-preview-subject") as HTMLInputElement).value).toBe(en["admin.rules.sample_zh_subject"]);
    fireEvent.click(screen.getByTestId("rules-preview-run"));
    const result = await eventually(() => screen.getByTestId("rules-preview-result"));
    const args = lastArgs(mock, "preview_rules") as { rules: RuleSet; subject: string; description: string };
    expect(args.subject).toBe(en["admin.rules.sample_zh_subject"]);
    expect(args.description).toBe(en["admin.rules.sample_zh_description"]);
    expect(args.rules.rules[1]!.when).toEqual({ keywords_any: ["被盗"] });
    expect(within(result).getByTestId("preview-category").textContent).toBe(en["category.account_takeover"]);
    expect(within(result).getByTestId("preview-department").textContent).toBe("Risk control");
    expect(within(result).getByTestId("preview-matched").textContent).toBe("account_takeover");
    // Nothing was saved by trying.
    expect(mock.callsTo("change_settings")).toHaveLength(0);
  });

  it("tries an English sample and shows a refusal of invalid rules", async () => {
    const { mock } = await openRules();
    mock.failNext("preview_rules", "invalid", "rules: rule `account_takeover`: keywords must not be empty");
    fireEvent.click(screen.getByTestId("rules-sample-en"));
    fireEvent.click(screen.getByTestId("rules-preview-run"));
    await eventually(() => expect(screen.getByTestId("rules-preview-error").textContent).toContain("keywords must not be empty"));
    expect((lastArgs(mock, "preview_rules") as { subject: string }).subject).toBe(en["admin.rules.sample_en_subject"]);
  });

  it("shows the Desk's refusal of a rule set", async () => {
    const { mock } = await openRules();
    mock.failNext("change_settings", "invalid", 'rules: rule "new" sends tickets to department "billing", which does not exist or is retired');
    fireEvent.click(screen.getByTestId("rule-add"));
    const editor = await eventually(() => screen.getByTestId("rule-editor"));
    fireEvent.input(within(editor).getByTestId("rule-name"), { target: { value: "new" } });
    fireEvent.click(screen.getByTestId("admin-save"));
    await eventually(() => expect(screen.getByTestId("admin-save-status").textContent).toContain("does not exist or is retired"));
  });
});
