import { describe, expect, it } from "vitest";
import { csvCell, toCsv } from "./csv";

describe("csv", () => {
  it("quotes text, doubles quotes, leaves numbers bare and absent values empty", () => {
    expect(csvCell('say "hi", then\nleave')).toBe('"say ""hi"", then\nleave"');
    expect(csvCell(83.3)).toBe("83.3");
    expect(csvCell(null)).toBe("");
    expect(csvCell(Number.NaN)).toBe("");
  });

  it("keeps spreadsheet formulas from customer text inert", () => {
    for (const hostile of ["=HYPERLINK(\"http://x\")", "+1+1", "-2", "@SUM(A1)", "\tcmd"]) {
      expect(csvCell(hostile).startsWith(`"'`)).toBe(true);
    }
    expect(csvCell("acct-1")).toBe('"acct-1"');
  });

  it("writes a UTF-8 BOM, the header and CRLF rows", () => {
    expect(toCsv(["分类", "Count"], [["登录异常", 3], ["x", null]])).toBe('\uFEFF"分类","Count"\r\n"登录异常",3\r\n"x",\r\n');
  });
});
