import { createSignal, onMount, Show } from "solid-js";
import { BackendError, type Backend, type KeychainState, type Me, type ProfileInfo } from "../backend";
import { errorText } from "../lib/errors";
import { t } from "../i18n";

/** First run and signing in again: server, e-mail, password; TOTP and passphrase when needed. */
export function SignIn(props: { backend: Backend; profile: ProfileInfo | null; keychain: KeychainState; onSignedIn: (me: Me, usedPassphrase: boolean) => void }) {
  // The start-up benchmark's baseline end point (the sign-in form on screen).
  onMount(() => {
    performance.mark("outpost:signin-ready");
    void props.backend.startupMark("signin-ready").catch(() => undefined);
  });
  const [server, setServer] = createSignal(props.profile?.server ?? "https://");
  const [email, setEmail] = createSignal(props.profile?.email ?? "");
  const [password, setPassword] = createSignal("");
  const [totp, setTotp] = createSignal("");
  const [passphrase, setPassphrase] = createSignal("");
  const [needTotp, setNeedTotp] = createSignal(false);
  const [needPassphrase, setNeedPassphrase] = createSignal(props.keychain !== "available");
  const [error, setError] = createSignal<string | null>(null);
  const [busy, setBusy] = createSignal(false);

  const submit = async (e: Event) => {
    e.preventDefault();
    if (busy()) return;
    setError(null);
    if (!server().trim() || !email().trim() || !password()) return setError(t("signin.fill_all"));
    if (needPassphrase() && passphrase().length < 8) return setError(t("signin.passphrase_short"));
    setBusy(true);
    try {
      const me = await props.backend.signIn({
        server: server().trim(),
        email: email().trim(),
        password: password(),
        totp: needTotp() ? totp().trim() : null,
        passphrase: needPassphrase() ? passphrase() : null,
      });
      setPassword("");
      setPassphrase("");
      props.onSignedIn(me, needPassphrase());
    } catch (raw) {
      const err = BackendError.from(raw);
      if (err.code === "totp_required") setNeedTotp(true);
      // The shell reports a missing and a locked keychain alike: both offer a passphrase.
      if (err.code === "no_keychain") setNeedPassphrase(true);
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div class="center-screen">
      <form class="card signin" onSubmit={submit} data-testid="signin" novalidate>
        <h1>{t("app.name")}</h1>
        <p class="muted">{t("signin.intro")}</p>
        <label class="field">
          <span>{t("signin.server")}</span>
          <input data-testid="signin-server" type="url" autocomplete="url" value={server()} onInput={(e) => setServer(e.currentTarget.value)} />
        </label>
        <label class="field">
          <span>{t("signin.email")}</span>
          <input data-testid="signin-email" type="email" autocomplete="username" value={email()} onInput={(e) => setEmail(e.currentTarget.value)} />
        </label>
        <label class="field">
          <span>{t("signin.password")}</span>
          <input
            data-testid="signin-password"
            type="password"
            autocomplete="current-password"
            value={password()}
            onInput={(e) => setPassword(e.currentTarget.value)}
          />
        </label>
        <Show when={needTotp()}>
          <label class="field">
            <span>{t("signin.totp")}</span>
            <input
              data-testid="signin-totp"
              inputmode="numeric"
              autocomplete="one-time-code"
              maxLength={8}
              value={totp()}
              onInput={(e) => setTotp(e.currentTarget.value)}
            />
          </label>
        </Show>
        <Show when={needPassphrase()}>
          <div class="passphrase-path">
            <p class="muted">{props.keychain === "locked" ? t("signin.keychain_locked_hint") : t("signin.no_keychain_hint")}</p>
            <label class="field">
              <span>{t("signin.passphrase")}</span>
              <input
                data-testid="signin-passphrase"
                type="password"
                autocomplete="new-password"
                value={passphrase()}
                onInput={(e) => setPassphrase(e.currentTarget.value)}
              />
            </label>
          </div>
        </Show>
        <Show when={error()}>
          <p class="error" role="alert" data-testid="signin-error">
            {error()}
          </p>
        </Show>
        <button type="submit" class="primary" data-testid="signin-submit" disabled={busy()}>
          {busy() ? t("signin.signing_in") : t("signin.submit")}
        </button>
      </form>
    </div>
  );
}
