import { BackendError } from "../backend";
import { isKey, t } from "../i18n";

/**
 * A failure in the user's language: the `error.<code>` text (every code of the generated
 * `ErrorCode` union has one; the i18n test says so), with the shell's message where the text
 * gives it as details. A code without a text can only come from a shell newer than this UI:
 * its own message is shown.
 */
export function errorText(error: unknown): string {
  const e = BackendError.from(error);
  const key = `error.${e.code}`;
  return isKey(key) ? t(key, { message: e.message }) : e.message;
}
