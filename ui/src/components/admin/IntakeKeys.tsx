// Intake keys: what connectors (mail, chat, the website) use to create tickets. A new key is
// shown once (the server keeps only its hash); revoking one stops it at once.
import { createResource, createSignal, For, Show } from "solid-js";
import { useDesk } from "../../state/app";
import { formatDateTime } from "../../lib/time";
import { locale, t } from "../../i18n";
import { ConfirmDialog } from "../Dialog";
import { adminErrorText, SecretOnce } from "./Users";

export function IntakeKeysScreen() {
  const desk = useDesk();
  const [keys, { refetch }] = createResource(() => desk.backend.adminIntakeKeys());
  const [name, setName] = createSignal("");
  const [busy, setBusy] = createSignal(false);
  const [error, setError] = createSignal<string | null>(null);
  const [created, setCreated] = createSignal<{ name: string; key: string } | null>(null);
  const [revoking, setRevoking] = createSignal<{ id: string; name: string } | null>(null);
  const [revokeError, setRevokeError] = createSignal<string | null>(null);

  const create = async (e: Event) => {
    e.preventDefault();
    const label = name().trim();
    if (!label) return setError(t("intakeKeys.name_required"));
    setBusy(true);
    setError(null);
    try {
      const made = await desk.backend.adminAddIntakeKey(label);
      setCreated({ name: made.name, key: made.key });
      setName("");
      void refetch();
    } catch (err) {
      setError(adminErrorText(err));
    } finally {
      setBusy(false);
    }
  };

  const revoke = async () => {
    const target = revoking();
    if (!target) return;
    setBusy(true);
    setRevokeError(null);
    try {
      await desk.backend.adminRevokeIntakeKey(target.id);
      setRevoking(null);
      void refetch();
    } catch (err) {
      setRevokeError(adminErrorText(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section class="admin-section" data-testid="admin-intake-keys">
      <header class="admin-section-head">
        <h3>{t("intakeKeys.title")}</h3>
      </header>
      <p class="muted">{t("intakeKeys.intro")}</p>
      <form class="inline-edit" onSubmit={(e) => void create(e)}>
        <input data-testid="intake-key-name" aria-label={t("intakeKeys.name")} placeholder={t("intakeKeys.name_hint")} value={name()} onInput={(e) => setName(e.currentTarget.value)} />
        <button type="submit" class="primary" data-testid="intake-key-create" disabled={busy()}>
          {t("intakeKeys.create")}
        </button>
      </form>
      <Show when={error()}>
        <p class="error" role="alert" data-testid="intake-key-error">
          {error()}
        </p>
      </Show>
      <Show when={created()}>
        {(c) => (
          <div data-testid="intake-key-created">
            <p>{t("intakeKeys.created", { name: c().name })}</p>
            <SecretOnce label={t("intakeKeys.key")} value={c().key} testid="intake-key-secret" />
            <button type="button" data-testid="intake-key-created-close" onClick={() => setCreated(null)}>
              {t("adminUsers.done")}
            </button>
          </div>
        )}
      </Show>
      <Show when={keys.error}>
        <p class="error" role="alert" data-testid="intake-keys-load-error">
          {adminErrorText(keys.error)}
        </p>
      </Show>
      <Show when={!keys.error && keys.latest}>
        {(list) => (
          <Show when={list().length > 0} fallback={<p class="empty" data-testid="intake-keys-empty">{t("intakeKeys.none")}</p>}>
            <table class="admin-table" data-testid="intake-keys-table">
              <thead>
                <tr>
                  <th>{t("intakeKeys.name")}</th>
                  <th>{t("intakeKeys.channel")}</th>
                  <th>{t("intakeKeys.created_at")}</th>
                  <th>{t("intakeKeys.state")}</th>
                  <th>
                    <span class="visually-hidden">{t("adminUsers.actions")}</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                <For each={list()}>
                  {(k) => (
                    <tr data-testid="intake-key-row" data-key-id={k.id} data-revoked={String(k.revoked_at !== null)}>
                      <td>{k.name}</td>
                      <td data-testid="intake-key-channel">{t(`channel.${k.channel}`)}</td>
                      <td>{formatDateTime(k.created_at, locale())}</td>
                      <td data-testid="intake-key-state">
                        {k.revoked_at ? t("intakeKeys.revoked_at", { when: formatDateTime(k.revoked_at, locale()) }) : t("intakeKeys.active")}
                      </td>
                      <td>
                        <Show when={!k.revoked_at}>
                          <button
                            type="button"
                            class="danger"
                            data-testid="intake-key-revoke"
                            onClick={() => {
                              setRevokeError(null);
                              setRevoking({ id: k.id, name: k.name });
                            }}
                          >
                            {t("intakeKeys.revoke")}
                          </button>
                        </Show>
                      </td>
                    </tr>
                  )}
                </For>
              </tbody>
            </table>
          </Show>
        )}
      </Show>
      <Show when={revoking()}>
        {(r) => (
          <ConfirmDialog
            title={t("intakeKeys.revoke_title", { name: r().name })}
            message={t("intakeKeys.revoke_message")}
            confirmLabel={t("intakeKeys.revoke")}
            confirmTestid="intake-key-revoke-confirm"
            danger
            busy={busy()}
            error={revokeError()}
            onCancel={() => setRevoking(null)}
            onConfirm={() => void revoke()}
          />
        )}
      </Show>
    </section>
  );
}
