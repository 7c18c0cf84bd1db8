import { BackendError } from "../backend";
import { isKey, t } from "../i18n";

/** A failure in the user's language: a translated message for known codes, else the shell's own. */
export function errorText(error: unknown): string {
  const e = BackendError.from(error);
  const key = `error.${e.code}`;
  return isKey(key) ? t(key) : e.message;
}
