// CSV (RFC 4180) for report tables: every text field quoted, CRLF line ends, a UTF-8 byte order
// mark so spreadsheet programs read Chinese correctly. Text that a spreadsheet would run as a
// formula (=, +, -, @, tab, CR at the start) gets a leading apostrophe: customer-supplied values
// such as account ids end up in these files.

export type Cell = string | number | null;

const FORMULA_START = /^[=+\-@\t\r]/;

export function csvCell(value: Cell): string {
  if (value === null) return "";
  if (typeof value === "number") return Number.isFinite(value) ? String(value) : "";
  const text = FORMULA_START.test(value) ? `'${value}` : value;
  return `"${text.replace(/"/g, '""')}"`;
}

export function toCsv(header: string[], rows: Cell[][]): string {
  return "\uFEFF" + [header, ...rows].map((r) => r.map(csvCell).join(",")).join("\r\n") + "\r\n";
}
