import { createEffect, createMemo, createSignal, For, on, Show } from "solid-js";
import type { ActionGate, Mutation, RiskActionKind, RiskPanel, Ticket, VerificationCheck, VerificationDimension, VerificationResult } from "../backend";
import { VERIFICATION_DIMENSIONS as DIMENSIONS, VERIFICATION_RESULTS as RESULTS } from "../backend/rules.gen";
import { newId } from "../lib/ids";
import { t } from "../i18n";
import { ConfirmDialog } from "./Dialog";

const ACTIONS: Array<{ kind: RiskActionKind; mutation: "risk.freeze" | "risk.intercept" | "risk.unfreeze" }> = [
  { kind: "freeze_account", mutation: "risk.freeze" },
  { kind: "intercept_transaction", mutation: "risk.intercept" },
  { kind: "unfreeze_account", mutation: "risk.unfreeze" },
];

function dimensionList(dimensions: VerificationDimension[]): string {
  return dimensions.map((d) => t(`dimension.${d}`)).join(t("common.list_separator"));
}

/** Why the Desk's verification decision does not allow the action yet, in the words of rules/verification.rs. */
export function verificationMessage(gate: ActionGate): string {
  const label = t(`risk_action.doing.${gate.action}`);
  if (gate.missing_required.length) return t("verification.required_not_passed", { action: label, list: dimensionList(gate.missing_required) });
  if (!gate.verified) return t("verification.too_few", { action: label, passed: gate.passed, needed: gate.needed });
  return t("verification.allowed", { passed: gate.passed, needed: gate.needed });
}

/** The gate of one action in the Desk's risk panel. */
function gateOf(panel: RiskPanel, action: RiskActionKind): ActionGate | undefined {
  return panel.actions.find((g) => g.action === action);
}

/** The identity-verification checklist, and the risk actions it gates (decided by the Desk). */
export function Verification(props: { ticket: Ticket; panel: RiskPanel; onChange: (mutation: Mutation) => Promise<boolean> }) {
  const latest = createMemo(() => new Map(props.panel.checks.map((c) => [c.dimension, c])));
  const freezeGate = createMemo(() => gateOf(props.panel, "freeze_account"));
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
          {t("verification.summary", { passed: freezeGate()?.passed ?? 0, needed: freezeGate()?.needed ?? 0 })}
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
      <RiskActions ticket={props.ticket} panel={props.panel} onChange={props.onChange} />
    </section>
  );
}

function RiskActions(props: { ticket: Ticket; panel: RiskPanel; onChange: (m: Mutation) => Promise<boolean> }) {
  const [pending, setPending] = createSignal<(typeof ACTIONS)[number] | null>(null);
  const [target, setTarget] = createSignal("");
  const [reason, setReason] = createSignal("");
  const [error, setError] = createSignal<string | null>(null);
  const [busy, setBusy] = createSignal(false);

  const defaultTarget = (kind: RiskActionKind) => (kind === "intercept_transaction" ? "" : (props.ticket.requester.account_id ?? ""));

  /** Why the button is disabled; null when the action may proceed. */
  const blocked = (kind: RiskActionKind): string | null => {
    const gate = gateOf(props.panel, kind);
    if (!gate) return null;
    if (!gate.verified) return verificationMessage(gate);
    return gate.refusal ? t(`risk.refusal.${gate.refusal}`) : null;
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
    // Required fields; whether the account's state allows the action is the Desk's answer.
    if (!target().trim()) return setError(t("risk.refusal.missing_target"));
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
        {t("risk.account_state", { state: props.panel.frozen ? t("risk.frozen") : t("risk.normal") })}
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
