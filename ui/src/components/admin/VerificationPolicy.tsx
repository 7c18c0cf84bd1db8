// The identity-verification policy: how many checks must have passed before any sensitive action
// on a ticket of each risk level, and per sensitive action a higher floor and the dimensions that
// must be among the passed ones.
import { For, Show } from "solid-js";
import type { VerificationDimension } from "../../backend";
import { VERIFICATION_DIMENSIONS } from "../../backend/rules.gen";
import { t } from "../../i18n";
import { useSettingsEditor, SaveBar, SectionHead } from "./state";
import type { Requirement, RiskMinimums, SensitiveAction, SettingsDoc, VerificationPolicy } from "./model";

export const SENSITIVE_ACTIONS: SensitiveAction[] = [
  "freeze_account",
  "intercept_transaction",
  "unfreeze_account",
  "password_reset",
  "profile_change",
  "permission_change",
  "bind_device",
];
const RISK_KEYS: Array<keyof RiskMinimums> = ["none", "l3", "l2", "l1"];

export function VerificationSettings() {
  const editor = useSettingsEditor<Extract<SettingsDoc, { kind: "verification" }>>("verification");
  const doc = () => editor.doc() as VerificationPolicy | null;
  const requirement = (action: SensitiveAction): Requirement | undefined => doc()?.requirements.find((r) => r.action === action);

  const setRequirement = (action: SensitiveAction, fn: (r: Requirement) => void) =>
    editor.edit((d) => {
      if (!d.requirements.some((x) => x.action === action)) d.requirements.push({ action, min_passed: 0, required_dimensions: [] });
      const r = d.requirements.find((x) => x.action === action);
      if (r) fn(r);
    });

  const toggleDimension = (action: SensitiveAction, dim: VerificationDimension, on: boolean) =>
    setRequirement(action, (r) => {
      r.required_dimensions = on ? [...r.required_dimensions.filter((x) => x !== dim), dim] : r.required_dimensions.filter((x) => x !== dim);
    });

  const count = (value: string) => Math.max(0, Math.round(Number(value) || 0));

  return (
    <section class="admin-section" data-testid="admin-verification">
      <SectionHead title={t("admin.tab.verification")} editor={editor} />
      <Show when={doc()}>
        {(policy) => (
          <div class="admin-form">
            <h4>{t("admin.verification.per_risk")}</h4>
            <div class="admin-inline admin-wrap" data-testid="verification-risk">
              <For each={RISK_KEYS}>
                {(k) => (
                  <label>
                    <span>{t(`admin.verification.risk_${k}`)}</span>
                    <input
                      type="number"
                      min="0"
                      max={VERIFICATION_DIMENSIONS.length}
                      class="admin-tiny"
                      data-testid={`verification-risk-${k}`}
                      value={policy().default_for_risk[k]}
                      onChange={(e) => editor.edit((d) => void (d.default_for_risk[k] = count(e.currentTarget.value)))}
                    />
                  </label>
                )}
              </For>
            </div>
            <h4>{t("admin.verification.per_action")}</h4>
            <p class="muted">{t("admin.verification.per_action_hint")}</p>
            <table class="admin-table" data-testid="verification-actions">
              <thead>
                <tr>
                  <th>{t("admin.verification.action")}</th>
                  <th>{t("admin.verification.min_passed")}</th>
                  <th>{t("admin.verification.required")}</th>
                </tr>
              </thead>
              <tbody>
                <For each={SENSITIVE_ACTIONS}>
                  {(action) => (
                    <tr data-testid={`verification-action-${action}`}>
                      <td>{t(`admin.verification.action.${action}`)}</td>
                      <td>
                        <input
                          type="number"
                          min="0"
                          max={VERIFICATION_DIMENSIONS.length}
                          class="admin-tiny"
                          data-testid="verification-min"
                          value={requirement(action)?.min_passed ?? 0}
                          onChange={(e) => setRequirement(action, (r) => void (r.min_passed = count(e.currentTarget.value)))}
                        />
                      </td>
                      <td>
                        <span class="admin-inline admin-wrap">
                          <For each={VERIFICATION_DIMENSIONS}>
                            {(dim) => (
                              <label class="admin-check">
                                <input
                                  type="checkbox"
                                  data-testid={`verification-dim-${dim}`}
                                  checked={requirement(action)?.required_dimensions.includes(dim) ?? false}
                                  onChange={(e) => toggleDimension(action, dim, e.currentTarget.checked)}
                                />
                                <span>{t(`dimension.${dim}`)}</span>
                              </label>
                            )}
                          </For>
                        </span>
                      </td>
                    </tr>
                  )}
                </For>
              </tbody>
            </table>
            <SaveBar editor={editor} />
          </div>
        )}
      </Show>
    </section>
  );
}
