import { describe, expect, it } from "vitest";
import errorCodeSource from "../backend/types/ErrorCode.ts?raw";
import { dictionaries, setLang, t } from "./index";

/**
 * The variants of the `ErrorCode` union that ts-rs generates from the Rust enum, read from the
 * generated file itself (so the list is never written twice).
 */
function errorCodes(): string[] {
  const union = /export type ErrorCode = ([^;]+);/.exec(errorCodeSource)?.[1];
  if (!union) throw new Error("ErrorCode.ts does not declare the ErrorCode union");
  return union.split("|").map((part) => {
    const code = /^\s*"([a-z_]+)"\s*$/.exec(part)?.[1];
    if (!code) throw new Error(`unexpected ErrorCode member ${part}`);
    return code;
  });
}

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

  it("explain every error code in both languages, and only those", () => {
    const codes = errorCodes();
    expect(codes).toContain("totp_required");
    expect(codes).toContain("unknown");
    const expected = codes.map((code) => `error.${code}`).sort();
    for (const [lang, dict] of Object.entries(dictionaries)) {
      const keys = Object.keys(dict).filter((key) => key.startsWith("error."));
      expect(expected.filter((key) => !keys.includes(key)), `${lang}: codes without a text`).toEqual([]);
      expect(keys.filter((key) => !expected.includes(key)), `${lang}: texts for no code`).toEqual([]);
    }
  });

  it("interpolates and switches language", () => {
    expect(t("queue.total", { count: 12 })).toBe("12 tickets");
    setLang("zh-CN");
    expect(t("queue.total", { count: 12 })).toBe("共 12 个工单");
    expect(document.documentElement.lang).toBe("zh-CN");
  });
});
