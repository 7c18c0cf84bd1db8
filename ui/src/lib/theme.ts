// A signal that changes whenever the colours on screen may have: the user's theme setting
// (`data-theme` on <html>) or the system's light/dark preference. Canvas charts read the CSS
// variables again when it changes.
import { createSignal, type Accessor } from "solid-js";

let version: Accessor<number> | undefined;

export function themeVersion(): number {
  if (!version) {
    const [v, setV] = createSignal(0);
    version = v;
    const bump = () => setV((n) => n + 1);
    if (typeof MutationObserver !== "undefined" && typeof document !== "undefined") {
      new MutationObserver(bump).observe(document.documentElement, { attributes: true, attributeFilter: ["data-theme"] });
    }
    if (typeof window !== "undefined" && typeof window.matchMedia === "function") {
      window.matchMedia("(prefers-color-scheme: dark)").addEventListener?.("change", bump);
    }
  }
  return version();
}

/** A CSS custom property of the document, trimmed. */
export function cssVar(name: string, fallback: string): string {
  if (typeof document === "undefined") return fallback;
  const value = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  return value || fallback;
}
