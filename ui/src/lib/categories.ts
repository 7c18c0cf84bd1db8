// The organisation's categories as the desk shows them. Which categories exist, their order and
// which ones are retired (no longer offered for new choices) are decided by the core
// (`Catalogue::listing`) and arrive as the `categories` of an `orgSettings` answer; this module
// keeps the last list read and only draws names and choices from it.
import { createSignal } from "solid-js";
import type { Backend, Category, CategoryEntry, OrgSettingsView } from "../backend";
import { BUILT_IN_CATEGORIES } from "../backend/rules.gen";
import { isKey, lang, t } from "../i18n";

/** Until the settings are read: the product's categories, none retired, none renamed. */
const PRODUCT: CategoryEntry[] = BUILT_IN_CATEGORIES.map((category) => ({ category, label_en: "", label_zh: "", retired: false }));
const [current, setCurrent] = createSignal<CategoryEntry[]>(PRODUCT);

/** The category list the desk last read. */
export const categoryList = current;

/** Shows the categories of a settings view the desk just received (the admin area's, say). */
export function setCategoriesFrom(view: OrgSettingsView): void {
  setCurrent(view.categories);
}

/** Reads the organisation's categories again; keeps the last ones when the cache cannot answer. */
export async function loadCatalogue(backend: Backend): Promise<void> {
  try {
    setCategoriesFrom(await backend.orgSettings());
  } catch {
    // Offline reads come from the cache; a failure leaves the names already shown.
  }
}

/** Every category the organisation has, retired ones too, in the core's order. */
export function allCategories(from: CategoryEntry[] = current()): Category[] {
  return from.map((e) => e.category);
}

/** The categories offered for new tickets, category changes, rules and SLA policies. */
export function categoriesInUse(from: CategoryEntry[] = current()): Category[] {
  return from.filter((e) => !e.retired).map((e) => e.category);
}

/** Whether the core listed `code` as retired. */
export function isRetired(code: Category, from: CategoryEntry[] = current()): boolean {
  return from.some((e) => e.category === code && e.retired);
}

/**
 * The choices of a control that sets categories on a rule, an SLA policy or a template: the
 * ones in use, and a retired one only where it is already `selected` (so an existing setting
 * still shows, marked retired), in the core's order.
 */
export function categoryChoices(selected: readonly Category[], from: CategoryEntry[] = current()): { category: Category; retired: boolean }[] {
  return from.filter((e) => !e.retired || selected.includes(e.category)).map((e) => ({ category: e.category, retired: e.retired }));
}

/** A choice's text: the category's name, marked when it is retired. */
export function choiceLabel(choice: { category: Category; retired: boolean }): string {
  const name = categoryLabel(choice.category);
  return choice.retired ? t("admin.retired_name", { name }) : name;
}

/** The product's own label of a built-in category; the code for any other. */
export function productLabel(code: Category): string {
  const key = `category.${code}`;
  return isKey(key) ? t(key) : code;
}

/** A category's name in the current language: the catalogue's, else the product's label. */
export function categoryLabel(code: Category, from: CategoryEntry[] = current()): string {
  const entry = from.find((c) => c.category === code);
  const named = entry ? (lang() === "zh-CN" ? entry.label_zh : entry.label_en).trim() : "";
  if (named) return named;
  const fallback = productLabel(code);
  return fallback === code && entry ? entry.label_en.trim() || entry.label_zh.trim() || code : fallback;
}
