// A tiny i18n: two complete dictionaries (a test keeps their key sets identical), a language
// signal, and `{name}` interpolation. Translated text is always rendered as text, never markup.
import { createSignal } from "solid-js";
import { en } from "./en";
import { zhCN } from "./zh-CN";

export type Lang = "en" | "zh-CN";
export type Key = keyof typeof en;
export type Dictionary = Record<Key, string>;

export const dictionaries: Record<Lang, Dictionary> = { en, "zh-CN": zhCN };

const [lang, setLangSignal] = createSignal<Lang>("en");

export { lang };

export function setLang(next: Lang): void {
  setLangSignal(next);
  if (typeof document !== "undefined") document.documentElement.lang = next;
}

/** The BCP 47 locale for Intl formatting. */
export function locale(): string {
  return lang() === "zh-CN" ? "zh-CN" : "en";
}

export function t(key: Key, params?: Record<string, string | number>): string {
  const text = dictionaries[lang()][key] ?? en[key];
  if (!params) return text;
  return text.replace(/\{(\w+)\}/g, (whole, name: string) => (name in params ? String(params[name]) : whole));
}

export function isKey(key: string): key is Key & string {
  return Object.prototype.hasOwnProperty.call(en, key);
}

/** A department's display name: translated for the built-in ones, as named otherwise. */
export function departmentLabel(name: string): string {
  const key = `department.${name}`;
  return isKey(key) ? t(key) : name;
}
