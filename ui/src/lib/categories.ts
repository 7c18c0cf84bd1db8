// The organisation's categories as the desk shows them: the product's built-in ones and those
// the organisation added to its catalogue (read with `orgSettings`), named as the catalogue
// names them in the current language, the product's own label otherwise. Which category may be
// used is decided by the core (`Catalogue::why_not_offered`); these lists only draw the controls.
import { createSignal } from "solid-js";
import type { Backend, Catalogue, Category, OrgSettingsView } from "../backend";
import { BUILT_IN_CATEGORIES } from "../backend/rules.gen";
import { isKey, lang, t } from "../i18n";

const EMPTY: Catalogue = { categories: [], tags: [] };
const [current, setCurrent] = createSignal<Catalogue>(EMPTY);

/** The catalogue the desk last read (empty, so the product's categories, until then). */
export const catalogue = current;

/** The catalogue document of an `orgSettings` answer. */
export function catalogueOf(view: OrgSettingsView): Catalogue {
  const doc = view.settings.catalogue.settings;
  return doc.kind === "catalogue" ? doc.doc : EMPTY;
}

/** Reads the organisation's catalogue again; keeps the last one when the cache cannot answer. */
export async function loadCatalogue(backend: Backend): Promise<void> {
  try {
    setCurrent(catalogueOf(await backend.orgSettings()));
  } catch {
    // Offline reads come from the cache; a failure leaves the names already shown.
  }
}

/** Every category the organisation has, retired ones too: the product's, then its own. */
export function allCategories(from: Catalogue = current()): Category[] {
  const own = from.categories.map((c) => c.category).filter((c) => !BUILT_IN_CATEGORIES.includes(c));
  return [...BUILT_IN_CATEGORIES, ...own];
}

/** The categories offered for new tickets, category changes, rules and SLA policies. */
export function categoriesInUse(from: Catalogue = current()): Category[] {
  const retired = new Set(from.categories.filter((c) => c.retired).map((c) => c.category));
  return allCategories(from).filter((c) => !retired.has(c));
}

/** The product's own label of a built-in category; the code for any other. */
export function productLabel(code: Category): string {
  const key = `category.${code}`;
  return isKey(key) ? t(key) : code;
}

/** A category's name in the current language: the catalogue's, else the product's label. */
export function categoryLabel(code: Category, from: Catalogue = current()): string {
  const entry = from.categories.find((c) => c.category === code);
  const named = entry ? (lang() === "zh-CN" ? entry.label_zh : entry.label_en).trim() : "";
  if (named) return named;
  const fallback = productLabel(code);
  return fallback === code && entry ? entry.label_en.trim() || entry.label_zh.trim() || code : fallback;
}
