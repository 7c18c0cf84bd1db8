// Categories and tags: the organisation's names for the product's categories (English and
// Chinese), its own categories, retiring the ones it does not use, and the tags it suggests to
// agents.
import { createSignal, For, Index, Show } from "solid-js";
import type { Category } from "../../backend";
import { withItem } from "../../lib/adminFormat";
import { allCategories, productLabel } from "../../lib/categories";
import { t } from "../../i18n";
import { createSaver, useAdmin, useSettingsEditor, SaveBar, SaveStatus, SectionHead } from "./state";
import type { Catalogue, CategoryEntry, SettingsDoc } from "./model";

export function CatalogueSettings() {
  const editor = useSettingsEditor<Extract<SettingsDoc, { kind: "catalogue" }>>("catalogue");
  const admin = useAdmin();
  const doc = () => editor.doc() as Catalogue | null;
  const [newTag, setNewTag] = createSignal("");
  const [added, setAdded] = createSignal({ code: "", label_en: "", label_zh: "" });
  const adder = createSaver();

  const entry = (category: Category): CategoryEntry =>
    doc()?.categories.find((c) => c.category === category) ?? { category, label_en: "", label_zh: "", retired: false };

  /** Edits a category's entry, adding it to the document the first time it is touched. */
  const editCategory = (category: Category, fn: (e: CategoryEntry) => void) =>
    editor.edit((d) => {
      if (!d.categories.some((c) => c.category === category)) d.categories.push({ category, label_en: "", label_zh: "", retired: false });
      const e = d.categories.find((c) => c.category === category);
      if (e) fn(e);
    });

  /**
   * Adds a category of the organisation's own to the saved catalogue at once, so the Desk's
   * verdict on its code and names shows beside the form (edits not yet saved stay a draft).
   */
  const addCategory = async () => {
    const saved = editor.current();
    if (!saved || saved.settings.kind !== "catalogue") return;
    const a = added();
    const next: Catalogue = structuredClone(saved.settings.doc);
    next.categories.push({ category: a.code.trim(), label_en: a.label_en.trim(), label_zh: a.label_zh.trim(), retired: false });
    const ok = await adder.run(async () => admin.setView(await admin.backend.changeSettings(saved.version, { kind: "catalogue", doc: next })));
    if (ok) setAdded({ code: "", label_en: "", label_zh: "" });
  };
  const setField = (key: "code" | "label_en" | "label_zh") => (e: { currentTarget: { value: string } }) => {
    setAdded({ ...added(), [key]: e.currentTarget.value });
    if (adder.state().kind !== "saving") adder.clear();
  };
  const complete = () => Object.values(added()).every((v) => v.trim() !== "");

  const addTag = () => {
    const tag = newTag().trim();
    if (!tag) return;
    editor.edit((d) => {
      const existing = d.tags.find((x) => x.tag === tag);
      if (existing) existing.retired = false;
      else d.tags.push({ tag, retired: false });
    });
    setNewTag("");
  };

  return (
    <section class="admin-section" data-testid="admin-catalogue">
      <SectionHead title={t("admin.tab.catalogue")} editor={editor} />
      <Show when={doc()}>
        {(cat) => (
          <div class="admin-form">
            <h4>{t("admin.catalogue.categories")}</h4>
            <p class="muted">{t("admin.catalogue.categories_hint")}</p>
            <table class="admin-table" data-testid="catalogue-categories">
              <thead>
                <tr>
                  <th>{t("admin.catalogue.product_name")}</th>
                  <th>{t("admin.catalogue.label_en")}</th>
                  <th>{t("admin.catalogue.label_zh")}</th>
                  <th>{t("admin.status")}</th>
                  <th />
                </tr>
              </thead>
              <tbody>
                <For each={allCategories(admin.view()?.categories)}>
                  {(c) => (
                    <tr data-testid={`category-${c}`} classList={{ "admin-retired": entry(c).retired }}>
                      <td>{productLabel(c) === c ? <code>{c}</code> : productLabel(c)}</td>
                      <td>
                        <input type="text" data-testid="category-label-en" value={entry(c).label_en} onInput={(e) => editCategory(c, (x) => void (x.label_en = e.currentTarget.value))} />
                      </td>
                      <td>
                        <input type="text" data-testid="category-label-zh" value={entry(c).label_zh} onInput={(e) => editCategory(c, (x) => void (x.label_zh = e.currentTarget.value))} />
                      </td>
                      <td data-testid="category-state">{entry(c).retired ? t("admin.retired") : t("admin.active")}</td>
                      <td>
                        <button type="button" class="link" data-testid="category-toggle" onClick={() => editCategory(c, (x) => void (x.retired = !x.retired))}>
                          {entry(c).retired ? t("admin.restore") : t("admin.retire")}
                        </button>
                      </td>
                    </tr>
                  )}
                </For>
              </tbody>
            </table>
            <fieldset class="admin-inline" data-testid="category-add-form">
              <legend>{t("admin.catalogue.add_category")}</legend>
              <label>
                <span>{t("admin.catalogue.code")}</span>
                <input type="text" data-testid="category-new-code" placeholder="merchant_onboarding" value={added().code} onInput={setField("code")} />
              </label>
              <label>
                <span>{t("admin.catalogue.label_en")}</span>
                <input type="text" data-testid="category-new-en" value={added().label_en} onInput={setField("label_en")} />
              </label>
              <label>
                <span>{t("admin.catalogue.label_zh")}</span>
                <input type="text" data-testid="category-new-zh" value={added().label_zh} onInput={setField("label_zh")} />
              </label>
              <button type="button" data-testid="category-add" disabled={!complete() || adder.state().kind === "saving"} onClick={() => void addCategory()}>
                {t("admin.catalogue.add_category")}
              </button>
              <SaveStatus state={adder.state()} pending={editor.pending()} onReload={() => void editor.reload()} testid="category-add-status" />
            </fieldset>
            <p class="muted">{t("admin.catalogue.code_hint")}</p>

            <h4>{t("admin.catalogue.tags")}</h4>
            <ul class="admin-list" data-testid="catalogue-tags">
              <Index each={cat().tags}>
                {(tag, i) => (
                  <li data-testid="tag" data-tag={tag().tag} classList={{ "admin-retired": tag().retired }}>
                    <span class="admin-tag">{tag().tag}</span>
                    <span class="muted">{tag().retired ? t("admin.retired") : t("admin.active")}</span>
                    <button type="button" class="link" data-testid="tag-toggle" onClick={() => editor.edit((d) => withItem(d.tags, i, (x) => void (x.retired = !x.retired)))}>
                      {tag().retired ? t("admin.restore") : t("admin.retire")}
                    </button>
                  </li>
                )}
              </Index>
            </ul>
            <Show when={cat().tags.length === 0}>
              <p class="muted" data-testid="catalogue-no-tags">
                {t("admin.catalogue.no_tags")}
              </p>
            </Show>
            <div class="admin-inline">
              <input
                type="text"
                data-testid="tag-new"
                placeholder={t("admin.catalogue.tag_placeholder")}
                value={newTag()}
                onInput={(e) => setNewTag(e.currentTarget.value)}
                onKeyDown={(e) => e.key === "Enter" && addTag()}
              />
              <button type="button" data-testid="tag-add" disabled={!newTag().trim()} onClick={addTag}>
                {t("admin.catalogue.add_tag")}
              </button>
            </div>
            <SaveBar editor={editor} />
          </div>
        )}
      </Show>
    </section>
  );
}
