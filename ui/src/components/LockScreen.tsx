import { createSignal, Show } from "solid-js";
import type { Backend, Me, ProfileInfo } from "../backend";
import { errorText } from "../lib/errors";
import { t } from "../i18n";

/** Locked: the cache key is dropped; unlock with the keychain (one button) or the passphrase. */
export function LockScreen(props: { backend: Backend; profile: ProfileInfo | null; onUnlocked: (me: Me) => void; onSignOut: () => void }) {
  const [passphrase, setPassphrase] = createSignal("");
  const [error, setError] = createSignal<string | null>(null);
  const [busy, setBusy] = createSignal(false);
  const usesPassphrase = () => props.profile?.mode === "passphrase";

  const unlock = async (e: Event) => {
    e.preventDefault();
    if (busy()) return;
    setBusy(true);
    setError(null);
    try {
      const me = await props.backend.unlock(usesPassphrase() ? passphrase() : null);
      setPassphrase("");
      props.onUnlocked(me);
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div class="center-screen">
      <form class="card lock" data-testid="lock-screen" onSubmit={unlock}>
        <h1>🔒 {t("lock.title")}</h1>
        <Show when={props.profile}>
          {(p) => (
            <p class="muted">
              {p().email} · {p().server}
            </p>
          )}
        </Show>
        <p>{usesPassphrase() ? t("lock.passphrase_intro") : t("lock.keychain_intro")}</p>
        <Show when={usesPassphrase()}>
          <label class="field">
            <span>{t("signin.passphrase")}</span>
            <input
              data-testid="unlock-passphrase"
              type="password"
              autocomplete="current-password"
              value={passphrase()}
              onInput={(e) => setPassphrase(e.currentTarget.value)}
            />
          </label>
        </Show>
        <Show when={error()}>
          <p class="error" role="alert" data-testid="unlock-error">
            {error()}
          </p>
        </Show>
        <button type="submit" class="primary" data-testid="unlock-submit" disabled={busy()}>
          {t("lock.unlock")}
        </button>
        <button type="button" class="link" data-testid="lock-sign-out" onClick={() => props.onSignOut()}>
          {t("lock.sign_out_instead")}
        </button>
      </form>
    </div>
  );
}
