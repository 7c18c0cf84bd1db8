// How attachments read: sizes, states, what can be previewed.
import type { AttachmentState } from "../../backend";
import { locale, t } from "../../i18n";
import { PREVIEWABLE_MIMES } from "../../backend/rules.gen";
import { fileFamily } from "../icons";

const KIB = 1024;
const MIB = 1024 * 1024;

/** "812 bytes", "34 KB", "4.2 MB" (binary units, as the organisation's limits are). */
export function formatSize(bytes: number): string {
  const number = (value: number, digits: number) => value.toLocaleString(locale(), { maximumFractionDigits: digits });
  if (bytes < KIB) return t("attachment.size.bytes", { size: number(bytes, 0) });
  if (bytes < MIB) return t("attachment.size.kb", { size: number(bytes / KIB, bytes < 10 * KIB ? 1 : 0) });
  return t("attachment.size.mb", { size: number(bytes / MIB, 1) });
}

/** Whole percent sent, never 100 before the last byte. */
export function percentSent(sent: number, size: number): number {
  if (size <= 0 || sent >= size) return 100;
  return Math.min(99, Math.floor((sent / size) * 100));
}

/**
 * Where the bytes are, in words. `remote` reads "not downloaded yet" while offline (nothing can
 * fetch it now), "on the server" otherwise.
 */
export function stateText(state: AttachmentState, sent: number, size: number, offline: boolean, reason?: string | null): string {
  switch (state) {
    case "queued":
      return t("attachment.state.queued");
    case "uploading":
      return t("attachment.state.uploading", { percent: percentSent(sent, size) });
    case "uploaded":
      return t("attachment.state.uploaded");
    case "downloaded":
      return t("attachment.state.downloaded");
    case "remote":
      return offline ? t("attachment.state.not_downloaded") : t("attachment.state.remote");
    case "failed":
      return reason ? t("attachment.state.failed", { reason }) : t("attachment.state.failed_plain");
  }
}

/** Whether this device holds the bytes (so they can be saved or previewed). */
export function hasBytes(state: AttachmentState): boolean {
  return state !== "remote" && state !== "failed";
}

/** Raster images the shell decodes for a preview (the core's list); anything else is never offered one. */
export function previewable(mime: string): boolean {
  return PREVIEWABLE_MIMES.includes(mime);
}

/** The family's name for people (the icon's label). */
export function familyLabel(mime: string): string {
  return t(`attachment.type.${fileFamily(mime)}`);
}
