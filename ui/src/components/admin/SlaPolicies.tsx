// SLA policies: targets per priority, optionally narrowed to a category and/or customer tier,
// on business hours or around the clock, and the share of a target after which a clock is at
// risk. Targets are stored in minutes and shown as hours and minutes. Before saving, how many
// open tickets' deadlines the changed targets move (counted by the Desk, as on business hours).
import { For, Index, Show } from "solid-js";
import type { CustomerTier } from "../../backend";
import { minutesFrom, minutesText, withItem } from "../../lib/adminFormat";
import { t } from "../../i18n";
import { categoryChoices, choiceLabel } from "../../lib/categories";
import { PRIORITIES } from "../TicketControls";
import { useSettingsEditor, SaveBar, SectionHead } from "./state";
import { DeadlineEffect } from "./BusinessHours";
import type { SettingsDoc, SlaPolicy, SlaSettings } from "./model";

const TIERS: CustomerTier[] = ["standard", "vip", "enterprise"];
type Target = "first_response_minutes" | "periodic_update_minutes" | "resolution_minutes";
const TARGETS: Target[] = ["first_response_minutes", "periodic_update_minutes", "resolution_minutes"];

/** Hours and minutes inputs for one target, with the target read back as people say it. */
function TargetInput(props: { value: number | null; onChange: (minutes: number | null) => void; testid: string }) {
  const hours = () => (props.value === null ? "" : String(Math.floor(props.value / 60)));
  const minutes = () => (props.value === null ? "" : String(props.value % 60));
  let h: HTMLInputElement | undefined;
  let m: HTMLInputElement | undefined;
  const changed = () => props.onChange(minutesFrom(h?.value ?? "", m?.value ?? ""));
  return (
    <span class="admin-target" data-testid={props.testid}>
      <input type="number" min="0" class="admin-tiny" aria-label={t("admin.sla.hours")} data-testid={`${props.testid}-h`} ref={h} value={hours()} onChange={changed} />
      <span class="muted">{t("admin.sla.h")}</span>
      <input type="number" min="0" max="59" class="admin-tiny" aria-label={t("admin.sla.minutes")} data-testid={`${props.testid}-m`} ref={m} value={minutes()} onChange={changed} />
      <span class="muted">{t("admin.sla.min")}</span>
      <span class="admin-target-text" data-testid={`${props.testid}-text`}>
        {minutesText(props.value)}
      </span>
    </span>
  );
}

export function SlaPolicies() {
  const editor = useSettingsEditor<Extract<SettingsDoc, { kind: "sla" }>>("sla");
  const doc = () => editor.doc() as SlaSettings | null;

  const add = () =>
    editor.edit((d) =>
      void d.policies.push({
        name: "",
        priority: "P3",
        category: null,
        tier: null,
        first_response_minutes: 60,
        periodic_update_minutes: null,
        resolution_minutes: 8 * 60,
        business_hours: true,
      }),
    );
  const set = <K extends keyof SlaPolicy>(i: number, key: K, value: SlaPolicy[K]) => editor.edit((d) => withItem(d.policies, i, (p) => void (p[key] = value)));

  return (
    <section class="admin-section" data-testid="admin-sla">
      <SectionHead title={t("admin.tab.sla")} editor={editor} />
      <Show when={doc()}>
        {(sla) => (
          <div class="admin-form">
            <table class="admin-table" data-testid="sla-policies">
              <thead>
                <tr>
                  <th>{t("admin.sla.name")}</th>
                  <th>{t("admin.sla.priority")}</th>
                  <th>{t("admin.sla.category")}</th>
                  <th>{t("admin.sla.tier")}</th>
                  <For each={TARGETS}>{(k) => <th>{t(`admin.sla.${k}`)}</th>}</For>
                  <th>{t("admin.sla.business_hours")}</th>
                  <th />
                </tr>
              </thead>
              <tbody>
                <Index each={sla().policies}>
                  {(policy, i) => (
                    <tr data-testid="sla-policy">
                      <td>
                        <input type="text" class="admin-short" data-testid="sla-name" value={policy().name} onInput={(e) => set(i, "name", e.currentTarget.value)} />
                      </td>
                      <td>
                        <select data-testid="sla-priority" value={policy().priority} onChange={(e) => set(i, "priority", e.currentTarget.value as SlaPolicy["priority"])}>
                          <For each={PRIORITIES}>{(p) => <option value={p}>{`${p} · ${t(`priority.${p}`)}`}</option>}</For>
                        </select>
                      </td>
                      <td>
                        <select
                          data-testid="sla-category"
                          value={policy().category ?? ""}
                          onChange={(e) => set(i, "category", (e.currentTarget.value || null) as SlaPolicy["category"])}
                        >
                          <option value="">{t("admin.sla.any_category")}</option>
                          <For each={categoryChoices(policy().category ? [policy().category!] : [])}>{(c) => <option value={c.category}>{choiceLabel(c)}</option>}</For>
                        </select>
                      </td>
                      <td>
                        <select data-testid="sla-tier" value={policy().tier ?? ""} onChange={(e) => set(i, "tier", (e.currentTarget.value || null) as SlaPolicy["tier"])}>
                          <option value="">{t("admin.sla.any_tier")}</option>
                          <For each={TIERS}>{(tier) => <option value={tier}>{t(`tier.${tier}`)}</option>}</For>
                        </select>
                      </td>
                      <For each={TARGETS}>
                        {(k) => (
                          <td>
                            <TargetInput testid={`sla-${k.replace("_minutes", "")}`} value={policy()[k]} onChange={(v) => set(i, k, v)} />
                          </td>
                        )}
                      </For>
                      <td>
                        <input
                          type="checkbox"
                          data-testid="sla-business-hours"
                          aria-label={t("admin.sla.business_hours")}
                          checked={policy().business_hours}
                          onChange={(e) => set(i, "business_hours", e.currentTarget.checked)}
                        />
                      </td>
                      <td>
                        <button type="button" class="link" data-testid="sla-remove" onClick={() => editor.edit((d) => void d.policies.splice(i, 1))}>
                          {t("admin.remove")}
                        </button>
                      </td>
                    </tr>
                  )}
                </Index>
              </tbody>
            </table>
            <button type="button" data-testid="sla-add" onClick={add}>
              {t("admin.sla.add")}
            </button>
            <label>
              <span>{t("admin.sla.warn_share")}</span>
              <span class="admin-inline">
                <input
                  type="number"
                  min="1"
                  max="100"
                  class="admin-tiny"
                  data-testid="sla-warn-share"
                  value={Math.round(sla().warn_share * 100)}
                  onChange={(e) => editor.edit((d) => void (d.warn_share = Number(e.currentTarget.value) / 100))}
                />
                <span class="muted">{t("admin.sla.warn_share_hint")}</span>
              </span>
            </label>
            <DeadlineEffect testid="sla-effect" />
            <SaveBar editor={editor} />
          </div>
        )}
      </Show>
    </section>
  );
}
