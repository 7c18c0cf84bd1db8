// Test helpers for the admin screens: the fake signed in as an admin, a small organisation's
// settings as the Desk answers `orgSettings`, and the admin area rendered on them.
import type { Me, StartInfo } from "../../backend";
import { recorded, type FakeBackend } from "../../backend/mock";
import { deskContext, renderInDesk, supervisorBackend } from "../../test/helpers";
import { ownCategoriesView } from "../../test/admin";
import { AdminScreen } from "./AdminScreen";
import { en } from "../../i18n/en";
import type { OrgSettingsView } from "./model";

/** The recorded supervisor with the admin role. */
export function adminMe(): Me {
  const me = recorded<Me>("me.supervisor");
  me.user.role = "admin";
  return me;
}

/** A small organisation's settings: every document at a known version, two departments, two templates. */
export function sampleView(): OrgSettingsView {
  const nine = [{ start_minute: 540, end_minute: 1080 }];
  return {
    settings: {
      organisation: {
        version: 2,
        updated_by: null,
        updated_at: "2026-12-01T09:00:00Z",
        settings: {
          kind: "organisation",
          doc: {
            name: "Lisboa Pay",
            default_department: "support",
            require_two_factor: false,
            form: { title: "", logo_png_base64: null, accent_colour: "#2563eb", default_language: "en", response_promise_hours: null },
            attachments: { types: ["pdf", "jpeg", "png"], max_bytes: 5242880, max_per_message: 10 },
          },
        },
      },
      sla: {
        version: 3,
        updated_by: null,
        updated_at: "2026-12-01T09:00:00Z",
        settings: {
          kind: "sla",
          doc: {
            policies: [
              { name: "P1", priority: "P1", category: null, tier: null, first_response_minutes: 15, periodic_update_minutes: 60, resolution_minutes: 120, business_hours: false },
              { name: "P3", priority: "P3", category: null, tier: null, first_response_minutes: 480, periodic_update_minutes: null, resolution_minutes: 2700, business_hours: true },
            ],
            calendar: {
              name: "Mon–Fri 09:00–18:00",
              tz: "Asia/Shanghai",
              weekly: { monday: nine, tuesday: nine, wednesday: nine, thursday: nine, friday: nine, saturday: [], sunday: [] },
              holidays: [{ date: "2026-12-25", name: "Christmas Day" }],
              special_periods: [],
            },
            warn_share: 0.75,
          },
        },
      },
      rules: {
        version: 0,
        updated_by: null,
        updated_at: null,
        settings: {
          kind: "rules",
          doc: {
            rules: [
              { name: "vip_priority_bump", when: { tier_in: ["vip"] }, then: { tags: ["vip"], bump_priority: 1 } },
              { name: "account_takeover", when: { keywords_any: ["盗号", "hacked"] }, then: { category: "account_takeover", priority: "P1", risk: "L1", department: "risk" } },
              { name: "large_abnormal", when: { any: [{ keywords_any: ["异常交易"] }, { all: [{ keywords_any: ["大额"] }, { keywords_any: ["异常"] }] }] }, then: { category: "security_alert" } },
            ],
          },
        },
      },
      verification: {
        version: 1,
        updated_by: null,
        updated_at: "2026-12-01T09:00:00Z",
        settings: {
          kind: "verification",
          doc: {
            requirements: [{ action: "password_reset", min_passed: 2, required_dimensions: ["real_name_info"] }],
            default_for_risk: { none: 2, l3: 2, l2: 3, l1: 5 },
          },
        },
      },
      catalogue: {
        version: 0,
        updated_by: null,
        updated_at: null,
        settings: { kind: "catalogue", doc: { categories: [], tags: [{ tag: "vip", retired: false }] } },
      },
    },
    departments: [
      { code: "support", name: "Customer support", active: true },
      { code: "risk", name: "Risk control", active: true },
      { code: "legacy", name: "Legacy desk", active: false },
    ],
    templates: [
      {
        id: "0193a0e5-0000-7000-8000-000000000001",
        name: "Password reset guide",
        language: "en",
        body: "Hello {{customer.name}}, here is how to reset your password.",
        categories: ["password_reset"],
        changes: { status: null, priority: null, add_tags: [] },
        active: true,
      },
      {
        id: "0193a0e5-0000-7000-8000-000000000002",
        name: "已解决并关闭",
        language: "zh-CN",
        body: "{{customer.name}} 您好，问题已解决。",
        categories: [],
        changes: { status: "resolved", priority: null, add_tags: ["closed_by_macro"] },
        active: true,
      },
    ],
    pending: [],
    // The Desk's list for an empty catalogue: the product's categories.
    categories: recorded<OrgSettingsView>("org_settings").categories,
  };
}

/**
 * `view` once the organisation added `merchant_onboarding` and retired `kyc_review`: its
 * catalogue and the category list the Desk recorded for it.
 */
export function withOwnCategories(view: OrgSettingsView = sampleView()): OrgSettingsView {
  const own = ownCategoriesView();
  view.settings.catalogue = own.settings.catalogue;
  view.categories = own.categories;
  return view;
}

/** The retired `kyc_review` as a control offers it where it is already chosen. */
export const RETIRED_KYC = en["admin.retired_name"].replace("{name}", en["category.kyc_review"]);

/** The fake signed in as an admin, answering `orgSettings` (and every admin change) with `view`. */
export function adminBackend(view: OrgSettingsView = sampleView()): FakeBackend {
  const mock = supervisorBackend();
  const me = adminMe();
  mock.on("app_start", (): StartInfo => ({ profile: { server: me.server, email: me.user.email, mode: "keychain" }, me, keychain: "available", settings: { idle_lock_minutes: 15, theme: "system", language: "en" } }));
  // The month view's days; tests that look at them give their own.
  mock.on("calendar_month", []);
  return answerView(mock, view);
}

/**
 * From now on the Desk's settings are `view`: `orgSettings` answers it, and so does every admin
 * change (the Desk answers a change with the cache's view after it).
 */
export function answerView(mock: FakeBackend, view: OrgSettingsView): FakeBackend {
  for (const cmd of ["org_settings", "change_settings", "put_department", "put_template"] as const) mock.on(cmd, view);
  return mock;
}

/** The admin area on `mock`, opened on `tab`. */
export async function renderAdmin(mock: FakeBackend, tab: string) {
  const ctx = await deskContext(mock);
  const result = renderInDesk(ctx, () => <AdminScreen initialTab={tab} />);
  return { ...result, ctx };
}

/** The arguments of the last call to `cmd`. */
export function lastArgs(mock: FakeBackend, cmd: Parameters<FakeBackend["callsTo"]>[0]): Record<string, unknown> {
  const calls = mock.callsTo(cmd);
  const last = calls[calls.length - 1];
  if (!last) throw new Error(`no call to ${cmd}`);
  return last.args;
}
