import type { CategoryEntry, Me, OrgSettingsView, StartInfo } from "../backend";
import { recorded, type FakeBackend } from "../backend/mock";
import { supervisorBackend } from "./helpers";

/** The recorded admin (who works in no department). */
export function adminMe(): Me {
  return recorded<Me>("me.admin");
}

/** The fake backend signed in as `me`, by default the recorded admin. */
export function adminBackend(me: Me = adminMe()): FakeBackend {
  const start: StartInfo = {
    profile: { server: me.server, email: me.user.email, mode: "keychain" },
    me,
    keychain: "available",
    settings: { idle_lock_minutes: 15, theme: "system", language: "en" },
  };
  return supervisorBackend().on("app_start", start);
}

/** The organisation's settings as the Desk recorded them (a fresh copy). */
export function orgSettingsView(): OrgSettingsView {
  return recorded<OrgSettingsView>("org_settings");
}

/**
 * The settings once the organisation added `merchant_onboarding` ("Merchant onboarding",
 * "商户入驻") and retired `kyc_review`: the catalogue as sent, and the category list the Desk
 * recorded for it.
 */
export function ownCategoriesView(): OrgSettingsView {
  const view = orgSettingsView();
  const catalogue = view.settings.catalogue.settings;
  if (catalogue.kind !== "catalogue") throw new Error("the recorded catalogue");
  catalogue.doc.categories = [
    { category: "merchant_onboarding", label_en: "Merchant onboarding", label_zh: "商户入驻", retired: false },
    { category: "kyc_review", label_en: "", label_zh: "", retired: true },
  ];
  view.categories = recorded<CategoryEntry[]>("org_settings.categories.own");
  return view;
}
