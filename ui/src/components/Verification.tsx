import { createEffect, createMemo, createSignal, For, on, Show } from "solid-js";
import type { Entry, Mutation, RiskActionKind, Ticket, VerificationCheck, VerificationDimension, VerificationResult } from "../backend";
import { DIMENSIONS, RESULTS, evaluate, latestResults, recordedChecks, type VerificationDecision } from "../lib/verification";
import { accountState, stateRefusal } from "../lib/risk";
import { newId } from "../lib/ids";
import { isKey, t } from "../i18n";
import { ConfirmDialog } from "./Dialog";

const ACTIONS: Array<{ kind: RiskActionKind; mutation: "risk.freeze" | "risk.intercept" | "risk.unfreeze" }> = [
  { kind: "freeze_account", mutation: "risk.freeze" },
  { kind: "intercept_transaction", mutation: "risk.intercept" },
  { kind: "unfreeze_account", mutation: "risk.unfreeze" },
];

function dimensionList(dimensions: VerificationDimension[]): string {
  return dimensions.map((d) => t(`dimension.${d}`)).join(t("common.list_separator"));
}

/** Why the verification does not allow `action` yet, in the words of rules/verification.rs. */
export function verificationMessage(action: RiskActionKind, decision: VerificationDecision): string {
  const label = t(`risk_action.doing.${action}`);
  if (decision.missingRequired.length) return t("verification.required_not_passed", { action: label, list: dimensionList(decision.missingRequired) });
  if (!decision.allowed) return t("verification.too_few", { action: label, passed: decision.passed.size, needed: decision.needed });
  return t("verification.allowed", { passed: decision.passed.size, needed: decision.needed });
}

/** The identity-verification checklist, and the risk actions it gates. */
export function Verification(props: { ticket: Ticket; entries: Entry[]; onChange: (mutation: Mutation) => Promise<boolean> }) {
  const checks = createMemo(() => recordedChecks(props.entries));
  const latest = createMemo(() => latestResults(checks()));
  const freezeDecision = createMemo(() => evaluate("freeze_account", props.ticket.risk, checks()));
  const [draft, setDraft] = createSignal<Partial<Record<VerificationDimension, { result: VerificationResult; method: string }>>>({});
  const [busy, setBusy] = createSignal(false);
  createEffect(on(() => props.ticket.id, () => setDraft({})));

  const record = async () => {
    const list: VerificationCheck[] = DIMENSIONS.flatMap((d) => {
      const row = draft()[d];
      return row ? [{ dimension: d, result: row.result, method: row.method.trim() }] : [];
    });
    if (!list.length) return;
    setBusy(true);
    const ok = await props.onChange({ name: "verification.record", args: { entry_id: newId(), ticket_id: props.ticket.id, checks: list } });
    setBusy(false);
    if (ok) setDraft({});
  };

  const setRow = (d: VerificationDimension, patch: Partial<{ result: VerificationResult | ""; method: string }>) => {
    setDraft((prev) => {
      const current = prev[d] ?? { result: "passed" as VerificationResult, method: "" };
      const next = { ...prev };
      if (patch.result === "") delete next[d];
      else next[d] = { result: (patch.result ?? current.result) as VerificationResult, method: patch.method ?? current.method };
      return next;
    });
  };

  return (
    <section class="panel verification" data-testid="verification" aria-label={t("verification.title")}>
      <h3>
        {t("verification.title")}{" "}
        <span class="muted" data-testid="verification-summary">
          {t("verification.summary", { passed: freezeDecision().passed.size, needed: freezeDecision().needed })}
        </span>
      </h3>
      <table class="checklist">
        <thead>
          <tr>
            <th>{t("verification.dimension")}</th>
            <th>{t("verification.latest")}</th>
            <th>{t("verification.record_result")}</th>
            <th>{t("verification.method")}</th>
          </tr>
        </thead>
        <tbody>
          <For each={DIMENSIONS}>
            {(d) => {
              const last = () => latest().get(d);
              return (
                <tr data-testid="verification-row" data-dimension={d} data-result={last()?.result ?? "none"}>
                  <td>{t(`dimension.${d}`)}</td>
                  <td>
                    <Show when={last()} fallback={<span class="muted">{t("verification.not_checked")}</span>}>
                      {(c) => (
                        <span class="check-result" data-result={c().result}>
                          {t(`verification.result_glyph.${c().result}`)} {t(`verification.result.${c().result}`)}
                        </span>
                      )}
                    </Show>
                  </td>
                  <td>
                    <select
                      aria-label={t("verification.record_for", { dimension: t(`dimension.${d}`) })}
                      data-testid={`verify-result-${d}`}
                      value={draft()[d]?.result ?? ""}
                      onChange={(e) => setRow(d, { result: e.currentTarget.value as VerificationResult | "" })}
                    >
                      <option value="">—</option>
                      <For each={RESULTS}>{(r) => <option value={r}>{t(`verification.result.${r}`)}</option>}</For>
                    </select>
                  </td>
                  <td>
                    <input
                      aria-label={t("verification.method")}
                      data-testid={`verify-method-${d}`}
                      placeholder={last()?.method ?? t("verification.method_placeholder")}
                      value={draft()[d]?.method ?? ""}
                      disabled={!draft()[d]}
                      onInput={(e) => setRow(d, { method: e.currentTarget.value })}
                    />
                  </td>
                </tr>
              );
            }}
          </For>
        </tbody>
      </table>
      <div class="panel-actions">
        <button type="button" data-testid="verification-record" disabled={busy() || Object.keys(draft()).length === 0} onClick={() => void record()}>
          {t("verification.record", { count: Object.keys(draft()).length })}
        </button>
      </div>
      <RiskActions ticket={props.ticket} entries={props.entries} checks={checks()} onChange={props.onChange} />
    </section>
  );
}

function RiskActions(props: { ticket: Ticket; entries: Entry[]; checks: VerificationCheck[]; onChange: (m: Mutation) => Promise<boolean> }) {
  const account = createMemo(() => accountState(props.entries));
  const [pending, setPending] = createSignal<(typeof ACTIONS)[number] | null>(null);
  const [target, setTarget] = createSignal("");
  const [reason, setReason] = createSignal("");
  const [error, setError] = createSignal<string | null>(null);
  const [busy, setBusy] = createSignal(false);

  const defaultTarget = (kind: RiskActionKind) => (kind === "intercept_transaction" ? "" : (props.ticket.requester.account_id ?? ""));

  /** Why the button is disabled; null when the action may proceed. */
  const blocked = (kind: RiskActionKind): string | null => {
    const decision = evaluate(kind, props.ticket.risk, props.checks);
    if (!decision.allowed) return verificationMessage(kind, decision);
    // The target of an interception is typed in the dialog; only state matters here.
    const refusal = stateRefusal(kind, account(), kind === "intercept_transaction" ? "?" : defaultTarget(kind) || "?");
    return refusal && isKey(refusal) ? t(refusal) : null;
  };

  const open = (action: (typeof ACTIONS)[number]) => {
    setTarget(defaultTarget(action.kind));
    setReason("");
    setError(null);
    setPending(action);
  };

  const confirm = async () => {
    const action = pending();
    if (!action) return;
    const refusal = stateRefusal(action.kind, account(), target());
    if (refusal && isKey(refusal)) return setError(t(refusal, { target: target() }));
    if (!reason().trim()) return setError(t("risk.refusal.missing_reason"));
    setBusy(true);
    const ok = await props.onChange({
      name: action.mutation,
      args: { entry_id: newId(), ticket_id: props.ticket.id, target: target().trim(), reason: reason().trim() },
    });
    setBusy(false);
    if (ok) setPending(null);
  };

  return (
    <div class="risk-actions" data-testid="risk-actions">
      <p class="muted">
        {t("risk.account_state", { state: account().frozen ? t("risk.frozen") : t("risk.normal") })}
      </p>
      <For each={ACTIONS}>
        {(action) => (
          <div class="risk-action">
            <button
              type="button"
              classList={{ danger: action.kind !== "unfreeze_account" }}
              data-testid={`risk-${action.kind}`}
              disabled={blocked(action.kind) !== null}
              title={blocked(action.kind) ?? undefined}
              onClick={() => open(action)}
            >
              {t(`risk_action.${action.kind}`)}
            </button>
            <Show when={blocked(action.kind)}>
              {(why) => (
                <span class="gate" data-testid={`risk-gate-${action.kind}`}>
                  {why()}
                </span>
              )}
            </Show>
          </div>
        )}
      </For>
      <Show when={pending()}>
        {(action) => (
          <ConfirmDialog
            title={t(`risk_action.${action().kind}`)}
            message={t(`risk.confirm.${action().kind}`)}
            confirmLabel={t(`risk_action.${action().kind}`)}
            danger={action().kind !== "unfreeze_account"}
            busy={busy()}
            error={error()}
            onCancel={() => setPending(null)}
            onConfirm={() => void confirm()}
          >
            <label class="field">
              <span>{action().kind === "intercept_transaction" ? t("risk.target_transaction") : t("risk.target_account")}</span>
              <input data-testid="risk-target" value={target()} onInput={(e) => setTarget(e.currentTarget.value)} />
            </label>
            <label class="field">
              <span>{t("risk.reason")}</span>
              <textarea data-testid="risk-reason" rows={3} value={reason()} onInput={(e) => setReason(e.currentTarget.value)} />
            </label>
          </ConfirmDialog>
        )}
      </Show>
    </div>
  );
}
