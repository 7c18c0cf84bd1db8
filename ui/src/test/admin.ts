import type { Me, OrgSettingsView, StartInfo } from "../backend";
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
