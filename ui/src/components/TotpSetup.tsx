import { createSignal, Show } from "solid-js";
import { BackendError, type Backend, type TotpSecret } from "../backend";
import { errorText } from "../lib/errors";
import { t } from "../i18n";

/** A base32 secret in groups of four, as people type it into an authenticator app. */
export function groupSecret(secret: string): string {
  return (secret.replace(/\s+/g, "").match(/.{1,4}/g) ?? []).join(" ");
}

/**
 * Enrolling an authenticator app (two-step sign-in): the password (and, to replace an enabled
 * authenticator, a current code from it) for a new secret, shown as text; then a code from the
 * app turns it on. `required`: the organisation requires it and the session does nothing else
 * until it is done, so the screen cannot be dismissed, only left by signing out.
 */
export function TotpSetup(props: { backend: Backend; required: boolean; onDone: () => void; onCancel: () => void; onSignOut?: () => void }) {
  const [password, setPassword] = createSignal("");
  const [currentCode, setCurrentCode] = createSignal("");
  const [needCurrent, setNeedCurrent] = createSignal(false);
  const [secret, setSecret] = createSignal<TotpSecret | null>(null);
  const [code, setCode] = createSignal("");
  const [error, setError] = createSignal<string | null>(null);
  const [busy, setBusy] = createSignal(false);

  const start = async (e: Event) => {
    e.preventDefault();
    if (busy()) return;
    setError(null);
    if (!password()) return setError(t("totp.password_needed"));
    setBusy(true);
    try {
      const answer = await props.backend.totpSetup(password(), needCurrent() ? currentCode().trim() : null);
      setPassword("");
      setCurrentCode("");
      setSecret(answer);
    } catch (raw) {
      const err = BackendError.from(raw);
      // An authenticator is enabled already: replacing it needs a code from it.
      if (err.code === "totp_required") {
        setNeedCurrent(true);
        setError(t("totp.current_code_needed"));
      } else setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };

  const enable = async (e: Event) => {
    e.preventDefault();
    if (busy()) return;
    setError(null);
    const typed = code().replace(/\s+/g, "");
    if (!/^\d{6}$/.test(typed)) return setError(t("totp.code_format"));
    setBusy(true);
    try {
      await props.backend.totpEnable(typed);
      props.onDone();
    } catch (raw) {
      setError(errorText(raw));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div class="backdrop" data-testid="totp-setup">
      <div class="dialog" role="dialog" aria-modal="true" aria-label={t("totp.title")}>
        <header class="dialog-head">
          <h2>{t("totp.title")}</h2>
          <Show when={!props.required}>
            <button type="button" class="icon" data-testid="totp-close" aria-label={t("common.close")} onClick={() => props.onCancel()}>
              ×
            </button>
          </Show>
        </header>
        <Show when={props.required}>
          <p data-testid="totp-required">{t("error.totp_setup_required")}</p>
        </Show>
        <Show
          when={secret()}
          fallback={
            <form onSubmit={start} novalidate>
              <p class="muted">{t("totp.intro")}</p>
              <label class="field">
                <span>{t("signin.password")}</span>
                <input
                  data-testid="totp-password"
                  type="password"
                  autocomplete="current-password"
                  value={password()}
                  onInput={(e) => setPassword(e.currentTarget.value)}
                />
              </label>
              <Show when={needCurrent()}>
                <label class="field">
                  <span>{t("totp.current_code")}</span>
                  <input
                    data-testid="totp-current-code"
                    inputmode="numeric"
                    autocomplete="one-time-code"
                    maxLength={8}
                    value={currentCode()}
                    onInput={(e) => setCurrentCode(e.currentTarget.value)}
                  />
                </label>
              </Show>
              <Show when={error()}>
                <p class="error" role="alert" data-testid="totp-error">
                  {error()}
                </p>
              </Show>
              <div class="dialog-actions">
                <Show when={props.required && props.onSignOut}>
                  <button type="button" data-testid="totp-sign-out" onClick={() => props.onSignOut?.()}>
                    {t("session.sign_out")}
                  </button>
                </Show>
                <button type="submit" class="primary" data-testid="totp-start" disabled={busy()}>
                  {t("totp.continue")}
                </button>
              </div>
            </form>
          }
        >
          {(s) => (
            <form onSubmit={enable} novalidate>
              <p>{t("totp.enter_secret")}</p>
              <p class="totp-secret" data-testid="totp-secret">
                <code>{groupSecret(s().secret)}</code>
              </p>
              <p class="muted">{t("totp.link_hint")}</p>
              <p class="totp-link">
                <code data-testid="totp-link">{s().otpauth_url}</code>
              </p>
              <label class="field">
                <span>{t("totp.code")}</span>
                <input
                  data-testid="totp-code"
                  inputmode="numeric"
                  autocomplete="one-time-code"
                  maxLength={8}
                  value={code()}
                  onInput={(e) => setCode(e.currentTarget.value)}
                />
              </label>
              <Show when={error()}>
                <p class="error" role="alert" data-testid="totp-error">
                  {error()}
                </p>
              </Show>
              <div class="dialog-actions">
                <Show when={props.required && props.onSignOut}>
                  <button type="button" onClick={() => props.onSignOut?.()}>
                    {t("session.sign_out")}
                  </button>
                </Show>
                <button type="submit" class="primary" data-testid="totp-enable" disabled={busy()}>
                  {t("totp.enable")}
                </button>
              </div>
            </form>
          )}
        </Show>
      </div>
    </div>
  );
}
