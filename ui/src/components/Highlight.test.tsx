import { describe, expect, it } from "vitest";
import { render } from "@solidjs/testing-library";
import { Highlight } from "./Highlight";
import { segments } from "../lib/highlight";
import { recorded } from "../backend/mock";
import type { SearchHit } from "../backend";

describe("search highlights", () => {
  it("mark what the Desk's search matched", () => {
    const hit = recorded<SearchHit[]>("search.hits")[0]!;
    const query = recorded<string>("search.query").toLowerCase();
    const { container } = render(() => <Highlight value={hit.subject} />);
    const marks = [...container.querySelectorAll("mark")].map((m) => m.textContent!.toLowerCase());
    expect(marks.length).toBeGreaterThan(0);
    expect(marks.every((m) => m === query)).toBe(true);
    expect(container.textContent).toBe(hit.subject.text);
  });

  it("split by code points, as Rust counts characters", () => {
    // 😀 is two UTF-16 units but one character: the range after it must not shift.
    const text = "😀 账户被盗登";
    // Ranges as the store's search gives them: character (code point) offsets.
    const ranges: Array<[number, number]> = [[4, 6]];
    expect(segments({ text, ranges })).toEqual([
      { text: "😀 账户", mark: false },
      { text: "被盗", mark: true },
      { text: "登", mark: false },
    ]);
  });

  it("clamp ranges that overlap or run past the end", () => {
    expect(segments({ text: "abcdef", ranges: [[4, 99], [0, 2], [1, 3]] })).toEqual([
      { text: "ab", mark: true },
      { text: "c", mark: true },
      { text: "d", mark: false },
      { text: "ef", mark: true },
    ]);
  });

  it("render matches as <mark> text and markup as literal text", () => {
    const text = '<img src=x onerror="window.__xss=1"> refund 退款';
    const { container } = render(() => <Highlight value={{ text, ranges: [[37, 43], [44, 46]] }} />);
    const marks = [...container.querySelectorAll("mark")].map((m) => m.textContent);
    expect(marks).toEqual(["refund", "退款"]);
    expect(container.textContent).toBe(text);
    expect(container.querySelector("img")).toBeNull();
    expect((window as { __xss?: number }).__xss).toBeUndefined();
  });
});
