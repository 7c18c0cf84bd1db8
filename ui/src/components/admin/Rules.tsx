// Classification and routing rules: each rule's keywords, tiers and channels (or its condition as
// JSON when it is more than the form shows), what it sets, and a "try it on this text" preview
// that runs the edited rules through the Desk's own classifier.
import { createSignal, For, Index, Show } from "solid-js";
import { unwrap } from "solid-js/store";
import type { Channel, CustomerTier } from "../../backend";
import { conditionOf, joinList, simpleCondition, splitList, withItem, type SimpleCondition } from "../../lib/adminFormat";
import { errorText } from "../../lib/errors";
import { departmentLabel, t } from "../../i18n";
import { categoryChoices, categoryLabel, choiceLabel } from "../../lib/categories";
import { PRIORITIES, RISKS } from "../TicketControls";
import { useSettingsEditor, SaveBar, SectionHead, useAdmin } from "./state";
import type { Actions, Classification, ClassificationRule, Condition, RuleSet, SettingsDoc } from "./model";

const TIERS: CustomerTier[] = ["standard", "vip", "enterprise"];
const CHANNELS: Channel[] = ["phone", "email", "chat", "wechat", "web_form", "app", "api"];

type Preview = { kind: "none" } | { kind: "running" } | { kind: "done"; result: Classification } | { kind: "failed"; text: string };

function toggle<T>(list: T[], value: T, on: boolean): T[] {
  return on ? [...list.filter((v) => v !== value), value] : list.filter((v) => v !== value);
}

/** A condition the form cannot show field by field, as JSON; applied when it parses. */
function ConditionJson(props: { condition: Condition; onChange: (c: Condition) => void }) {
  const [error, setError] = createSignal(false);
  return (
    <label class="admin-wide">
      <span>{t("admin.rules.condition_json")}</span>
      <textarea
        rows="4"
        data-testid="rule-condition-json"
        value={JSON.stringify(props.condition, null, 1)}
        onChange={(e) => {
          try {
            props.onChange(JSON.parse(e.currentTarget.value) as Condition);
            setError(false);
          } catch {
            setError(true);
          }
        }}
      />
      <Show when={error()}>
        <span class="error" data-testid="rule-condition-json-error">
          {t("admin.rules.condition_json_bad")}
        </span>
      </Show>
    </label>
  );
}

function RuleEditor(props: { rule: ClassificationRule; index: number; edit: (fn: (rule: ClassificationRule) => void) => void; departments: Array<{ code: string; name: string; active: boolean }> }) {
  const simple = () => simpleCondition(props.rule.when);
  const setSimple = (fn: (s: SimpleCondition) => void) => {
    const next = simple();
    if (!next) return;
    fn(next);
    props.edit((r) => void (r.when = conditionOf(next)));
  };
  const setAction = <K extends keyof Actions>(key: K, value: Actions[K] | null | undefined) =>
    props.edit((r) => {
      if (value === null || value === undefined || (Array.isArray(value) && value.length === 0) || value === 0) delete r.then[key];
      else r.then[key] = value;
    });
  return (
    <div class="admin-rule-body" data-testid="rule-editor">
      <label>
        <span>{t("admin.rules.name")}</span>
        <input type="text" data-testid="rule-name" value={props.rule.name} onInput={(e) => props.edit((r) => void (r.name = e.currentTarget.value))} />
      </label>
      <h5>{t("admin.rules.when")}</h5>
      <Show when={simple()} fallback={<ConditionJson condition={props.rule.when} onChange={(c) => props.edit((r) => void (r.when = c))} />}>
        {(s) => (
          <>
            <label>
              <span>{t("admin.rules.keywords_any")}</span>
              <input type="text" data-testid="rule-keywords-any" value={joinList(s().any)} onChange={(e) => setSimple((x) => void (x.any = splitList(e.currentTarget.value)))} />
            </label>
            <label>
              <span>{t("admin.rules.keywords_all")}</span>
              <input type="text" data-testid="rule-keywords-all" value={joinList(s().all)} onChange={(e) => setSimple((x) => void (x.all = splitList(e.currentTarget.value)))} />
            </label>
            <div class="admin-field">
              <span>{t("admin.rules.tiers")}</span>
              <span class="admin-inline">
                <For each={TIERS}>
                  {(tier) => (
                    <label class="admin-check">
                      <input
                        type="checkbox"
                        data-testid={`rule-tier-${tier}`}
                        checked={s().tiers.includes(tier)}
                        onChange={(e) => setSimple((x) => void (x.tiers = toggle(x.tiers, tier, e.currentTarget.checked)))}
                      />
                      <span>{t(`tier.${tier}`)}</span>
                    </label>
                  )}
                </For>
              </span>
            </div>
            <div class="admin-field">
              <span>{t("admin.rules.channels")}</span>
              <span class="admin-inline">
                <For each={CHANNELS}>
                  {(ch) => (
                    <label class="admin-check">
                      <input
                        type="checkbox"
                        data-testid={`rule-channel-${ch}`}
                        checked={s().channels.includes(ch)}
                        onChange={(e) => setSimple((x) => void (x.channels = toggle(x.channels, ch, e.currentTarget.checked)))}
                      />
                      <span>{t(`channel.${ch}`)}</span>
                    </label>
                  )}
                </For>
              </span>
            </div>
            <p class="muted">{t("admin.rules.when_hint")}</p>
          </>
        )}
      </Show>
      <h5>{t("admin.rules.then")}</h5>
      <div class="admin-inline admin-wrap">
        <label>
          <span>{t("admin.rules.category")}</span>
          <select data-testid="rule-category" value={props.rule.then.category ?? ""} onChange={(e) => setAction("category", (e.currentTarget.value || null) as Actions["category"])}>
            <option value="">{t("admin.rules.unchanged")}</option>
            <For each={categoryChoices(props.rule.then.category ? [props.rule.then.category] : [])}>{(c) => <option value={c.category}>{choiceLabel(c)}</option>}</For>
          </select>
        </label>
        <label>
          <span>{t("admin.rules.priority")}</span>
          <select data-testid="rule-priority" value={props.rule.then.priority ?? ""} onChange={(e) => setAction("priority", (e.currentTarget.value || null) as Actions["priority"])}>
            <option value="">{t("admin.rules.unchanged")}</option>
            <For each={PRIORITIES}>{(p) => <option value={p}>{`${p} · ${t(`priority.${p}`)}`}</option>}</For>
          </select>
        </label>
        <label>
          <span>{t("admin.rules.risk")}</span>
          <select data-testid="rule-risk" value={props.rule.then.risk ?? ""} onChange={(e) => setAction("risk", (e.currentTarget.value || null) as Actions["risk"])}>
            <option value="">{t("admin.rules.unchanged")}</option>
            <For each={RISKS}>{(r) => <option value={r}>{t(`risk.${r}`)}</option>}</For>
          </select>
        </label>
        <label>
          <span>{t("admin.rules.department")}</span>
          <select data-testid="rule-department" value={props.rule.then.department ?? ""} onChange={(e) => setAction("department", e.currentTarget.value || null)}>
            <option value="">{t("admin.rules.unchanged")}</option>
            <For each={props.departments}>
              {(d) => (
                <option value={d.code} disabled={!d.active && d.code !== props.rule.then.department}>
                  {d.active ? d.name : t("admin.retired_name", { name: d.name })}
                </option>
              )}
            </For>
          </select>
        </label>
        <label>
          <span>{t("admin.rules.bump")}</span>
          <input
            type="number"
            min="0"
            max="3"
            class="admin-tiny"
            data-testid="rule-bump"
            value={props.rule.then.bump_priority ?? 0}
            onChange={(e) => setAction("bump_priority", Math.max(0, Math.round(Number(e.currentTarget.value) || 0)))}
          />
        </label>
      </div>
      <label>
        <span>{t("admin.rules.tags")}</span>
        <input type="text" data-testid="rule-tags" value={joinList(props.rule.then.tags)} onChange={(e) => setAction("tags", splitList(e.currentTarget.value))} />
      </label>
      <label>
        <span>{t("admin.rules.templates")}</span>
        <input type="text" data-testid="rule-templates" value={joinList(props.rule.then.templates)} onChange={(e) => setAction("templates", splitList(e.currentTarget.value))} />
      </label>
      <label class="admin-check">
        <input type="checkbox" data-testid="rule-stop" checked={!!props.rule.stop} onChange={(e) => props.edit((r) => void (r.stop = e.currentTarget.checked))} />
        <span>{t("admin.rules.stop")}</span>
      </label>
    </div>
  );
}

export function RulesSettings() {
  const admin = useAdmin();
  const editor = useSettingsEditor<Extract<SettingsDoc, { kind: "rules" }>>("rules");
  const doc = () => editor.doc() as RuleSet | null;
  const [open, setOpen] = createSignal<number | null>(null);
  const [subject, setSubject] = createSignal("");
  const [description, setDescription] = createSignal("");
  const [preview, setPreview] = createSignal<Preview>({ kind: "none" });
  const departments = () => admin.view()?.departments ?? [];

  const move = (i: number, delta: number) =>
    editor.edit((d) => {
      const j = i + delta;
      if (j < 0 || j >= d.rules.length) return;
      const [rule] = d.rules.splice(i, 1);
      if (rule) d.rules.splice(j, 0, rule);
    });

  const add = () => {
    editor.edit((d) => void d.rules.push({ name: "", when: { keywords_any: [] }, then: {} }));
    setOpen((doc()?.rules.length ?? 1) - 1);
  };

  const sample = (lang: "zh" | "en") => {
    setSubject(t(`admin.rules.sample_${lang}_subject`));
    setDescription(t(`admin.rules.sample_${lang}_description`));
  };

  const runPreview = async () => {
    const rules = doc();
    if (!rules) return;
    setPreview({ kind: "running" });
    try {
      const result = await admin.backend.previewRules(structuredClone(unwrap(rules)), subject(), description());
      setPreview({ kind: "done", result });
    } catch (e) {
      setPreview({ kind: "failed", text: errorText(e) });
    }
  };

  const summary = (rule: ClassificationRule) => {
    const s = simpleCondition(rule.when);
    if (!s) return t("admin.rules.complex");
    const words = [...s.any, ...s.all];
    return words.length ? words.slice(0, 4).join(t("common.list_separator")) + (words.length > 4 ? "…" : "") : t("admin.rules.no_keywords");
  };

  return (
    <section class="admin-section" data-testid="admin-rules">
      <SectionHead title={t("admin.tab.rules")} editor={editor} />
      <Show when={doc()}>
        {(rules) => (
          <div class="admin-form">
            <p class="muted">{t("admin.rules.order_hint")}</p>
            <ol class="admin-rules" data-testid="rules-list">
              <Index each={rules().rules}>
                {(rule, i) => (
                  <li data-testid="rule" data-name={rule().name}>
                    <div class="admin-rule-head">
                      <button type="button" class="link" data-testid="rule-open" aria-expanded={open() === i} onClick={() => setOpen(open() === i ? null : i)}>
                        {rule().name || t("admin.rules.unnamed")}
                      </button>
                      <span class="muted">{summary(rule())}</span>
                      <span class="admin-row-actions">
                        <button type="button" class="link" data-testid="rule-up" disabled={i === 0} onClick={() => move(i, -1)}>
                          {t("admin.rules.up")}
                        </button>
                        <button type="button" class="link" data-testid="rule-down" disabled={i === rules().rules.length - 1} onClick={() => move(i, 1)}>
                          {t("admin.rules.down")}
                        </button>
                        <button
                          type="button"
                          class="link"
                          data-testid="rule-remove"
                          onClick={() => {
                            setOpen(null);
                            editor.edit((d) => void d.rules.splice(i, 1));
                          }}
                        >
                          {t("admin.remove")}
                        </button>
                      </span>
                    </div>
                    <Show when={open() === i}>
                      <RuleEditor rule={rule()} index={i} departments={departments()} edit={(fn) => editor.edit((d) => withItem(d.rules, i, fn))} />
                    </Show>
                  </li>
                )}
              </Index>
            </ol>
            <button type="button" data-testid="rule-add" onClick={add}>
              {t("admin.rules.add")}
            </button>

            <div class="admin-preview" data-testid="rules-preview">
              <h4>{t("admin.rules.try")}</h4>
              <div class="admin-inline">
                <button type="button" class="link" data-testid="rules-sample-zh" onClick={() => sample("zh")}>
                  {t("admin.rules.sample_zh")}
                </button>
                <button type="button" class="link" data-testid="rules-sample-en" onClick={() => sample("en")}>
                  {t("admin.rules.sample_en")}
                </button>
              </div>
              <label>
                <span>{t("admin.rules.subject")}</span>
                <input type="text" data-testid="rules-preview-subject" value={subject()} onInput={(e) => setSubject(e.currentTarget.value)} />
              </label>
              <label>
                <span>{t("admin.rules.description")}</span>
                <textarea rows="3" data-testid="rules-preview-description" value={description()} onInput={(e) => setDescription(e.currentTarget.value)} />
              </label>
              <button type="button" data-testid="rules-preview-run" disabled={preview().kind === "running"} onClick={() => void runPreview()}>
                {t("admin.rules.try_run")}
              </button>
              <Show when={preview().kind === "failed" && preview()}>
                {(p) => (
                  <p class="error" role="alert" data-testid="rules-preview-error">
                    {(p() as { text: string }).text}
                  </p>
                )}
              </Show>
              <Show when={preview().kind === "done" && preview()}>
                {(p) => {
                  const r = () => (p() as { result: Classification }).result;
                  return (
                    <dl class="admin-result" data-testid="rules-preview-result">
                      <dt>{t("admin.rules.category")}</dt>
                      <dd data-testid="preview-category">{r().category ? categoryLabel(r().category!) : t("admin.rules.not_set")}</dd>
                      <dt>{t("admin.rules.priority")}</dt>
                      <dd data-testid="preview-priority">{r().priority ?? t("admin.rules.not_set")}</dd>
                      <dt>{t("admin.rules.risk")}</dt>
                      <dd data-testid="preview-risk">{r().risk ? t(`risk.${r().risk!}`) : t("admin.rules.not_set")}</dd>
                      <dt>{t("admin.rules.department")}</dt>
                      <dd data-testid="preview-department">{r().department ? departmentName(departments(), r().department!) : t("admin.rules.not_set")}</dd>
                      <dt>{t("admin.rules.tags")}</dt>
                      <dd data-testid="preview-tags">{r().tags.length ? r().tags.join(t("common.list_separator")) : t("common.none")}</dd>
                      <dt>{t("admin.rules.matched")}</dt>
                      <dd data-testid="preview-matched">{r().matched_rules.length ? r().matched_rules.join(t("common.list_separator")) : t("admin.rules.none_matched")}</dd>
                    </dl>
                  );
                }}
              </Show>
            </div>
            <SaveBar editor={editor} />
          </div>
        )}
      </Show>
    </section>
  );
}

function departmentName(departments: Array<{ code: string; name: string }>, code: string): string {
  return departments.find((d) => d.code === code)?.name ?? departmentLabel(code);
}
