import { describe, expect, it } from "vitest";
import { dictionaries, setLang, t } from "./index";

const placeholders = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

describe("i18n dictionaries", () => {
  const en = dictionaries.en;
  const zh = dictionaries["zh-CN"];

  it("have identical key sets", () => {
    expect(Object.keys(zh).sort()).toEqual(Object.keys(en).sort());
  });

  it("have no empty values, except deliberate affixes", () => {
    // The unsent-count prefix is empty in both languages by design: the count comes first.
    const allowedEmpty = new Set(["sync.unsent_prefix"]);
    for (const [lang, dict] of Object.entries(dictionaries)) {
      for (const [key, value] of Object.entries(dict)) {
        if (allowedEmpty.has(key)) continue;
        expect(value.trim(), `${lang} ${key}`).not.toBe("");
      }
    }
  });

  it("use the same placeholders in both languages", () => {
    for (const key of Object.keys(en) as Array<keyof typeof en>) {
      expect(placeholders(zh[key]), key).toEqual(placeholders(en[key]));
    }
  });

  it("interpolates and switches language", () => {
    expect(t("queue.total", { count: 12 })).toBe("12 tickets");
    setLang("zh-CN");
    expect(t("queue.total", { count: 12 })).toBe("共 12 个工单");
    expect(document.documentElement.lang).toBe("zh-CN");
  });
});
