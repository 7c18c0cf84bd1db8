import { createSignal, For, Show } from "solid-js";
import type { Settings } from "../backend";
import { useDesk } from "../state/app";
import { t } from "../i18n";
import { TotpSetup } from "./TotpSetup";

const IDLE_CHOICES = [0, 1, 5, 15, 30, 60];

/** Theme toggle, language, idle lock, two-step sign-in, lock and sign out. */
export function UserMenu() {
  const desk = useDesk();
  const [open, setOpen] = createSignal(false);
  // Two-step sign-in: opened from the menu by anyone, or forced while the Desk reports that the
  // organisation requires it and this account has none (the session syncs nothing until then).
  const [enrolling, setEnrolling] = createSignal(false);
  const [enrolled, setEnrolled] = createSignal(false);
  const [enabledNotice, setEnabledNotice] = createSignal(false);
  const setupRequired = () => {
    const c = desk.sync()?.connectivity;
    return c?.state === "error" && c.totp_setup_required === true && !enrolled();
  };
  const onEnrolled = () => {
    setEnrolled(true);
    setEnrolling(false);
    setEnabledNotice(true);
    void desk.refreshSync();
  };
  const save = (patch: Partial<Settings>) => void desk.saveSettings({ ...desk.settings(), ...patch });
  const nextTheme = (): Settings["theme"] => {
    const order: Settings["theme"][] = ["system", "light", "dark"];
    return order[(order.indexOf(desk.settings().theme) + 1) % order.length]!;
  };
  return (
    <div class="user-menu">
      <button
        type="button"
        class="icon"
        data-testid="theme-toggle"
        title={t("settings.theme_is", { theme: t(`settings.theme.${desk.settings().theme}`) })}
        aria-label={t("settings.theme_is", { theme: t(`settings.theme.${desk.settings().theme}`) })}
        onClick={() => save({ theme: nextTheme() })}
      >
        {desk.settings().theme === "dark" ? "☾" : desk.settings().theme === "light" ? "☀" : "◐"}
      </button>
      <button type="button" class="avatar" data-testid="user-menu" aria-expanded={open()} onClick={() => setOpen(!open())}>
        {desk.me.user.name.slice(0, 1)}
      </button>
      <Show when={open()}>
        <div class="menu" role="menu" data-testid="user-menu-panel">
          <p class="menu-who">
            <strong>{desk.me.user.name}</strong>
            <br />
            <span class="muted">{desk.me.user.email}</span>
            <br />
            <span class="muted">{desk.me.server}</span>
          </p>
          <label class="field">
            <span>{t("settings.language")}</span>
            <select
              data-testid="language-select"
              value={desk.settings().language}
              onChange={(e) => save({ language: e.currentTarget.value as Settings["language"] })}
            >
              <option value="en">English</option>
              <option value="zh-CN">简体中文</option>
            </select>
          </label>
          <label class="field">
            <span>{t("settings.theme_label")}</span>
            <select data-testid="theme-select" value={desk.settings().theme} onChange={(e) => save({ theme: e.currentTarget.value as Settings["theme"] })}>
              <option value="system">{t("settings.theme.system")}</option>
              <option value="light">{t("settings.theme.light")}</option>
              <option value="dark">{t("settings.theme.dark")}</option>
            </select>
          </label>
          <label class="field">
            <span>{t("settings.idle_lock")}</span>
            <select
              data-testid="idle-select"
              value={String(desk.settings().idle_lock_minutes)}
              onChange={(e) => save({ idle_lock_minutes: Number(e.currentTarget.value) })}
            >
              <For each={IDLE_CHOICES.includes(desk.settings().idle_lock_minutes) ? IDLE_CHOICES : [...IDLE_CHOICES, desk.settings().idle_lock_minutes]}>
                {(m) => <option value={String(m)}>{m === 0 ? t("settings.idle_never") : t("settings.idle_minutes", { count: m })}</option>}
              </For>
            </select>
          </label>
          <button
            type="button"
            data-testid="totp-open"
            onClick={() => {
              setOpen(false);
              setEnrolling(true);
            }}
          >
            {t("totp.menu")}
          </button>
          <div class="menu-actions">
            <button type="button" data-testid="lock" onClick={() => void desk.lock()}>
              {t("session.lock")}
            </button>
            <button type="button" data-testid="sign-out" onClick={() => desk.signOut()}>
              {t("session.sign_out")}
            </button>
          </div>
        </div>
      </Show>
      <Show when={setupRequired() || enrolling()}>
        <TotpSetup
          backend={desk.backend}
          required={setupRequired()}
          onDone={onEnrolled}
          onCancel={() => setEnrolling(false)}
          onSignOut={() => desk.signOut()}
        />
      </Show>
      <Show when={enabledNotice()}>
        <div class="toast" role="status" data-testid="totp-enabled">
          <span>{t("totp.enabled")}</span>
          <button type="button" class="icon" aria-label={t("common.close")} onClick={() => setEnabledNotice(false)}>
            ×
          </button>
        </div>
      </Show>
    </div>
  );
}
