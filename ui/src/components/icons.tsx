// The app's own symbols (SVG, drawn in currentColor), never emoji from whatever fonts the system
// has. Decorative unless given a label.
import { Match, Switch } from "solid-js";

/** The internal note's lock. */
export function LockIcon() {
  return (
    <svg class="icon-svg" viewBox="0 0 16 16" width="12" height="12" aria-hidden="true">
      <rect x="3" y="7" width="10" height="7" rx="1.5" fill="none" stroke="currentColor" stroke-width="1.4" />
      <path d="M5.5 7V5a2.5 2.5 0 0 1 5 0v2" fill="none" stroke="currentColor" stroke-width="1.4" />
    </svg>
  );
}

/** A paper clip: attaching files. */
export function PaperclipIcon() {
  return (
    <svg class="icon-svg" viewBox="0 0 16 16" width="14" height="14" aria-hidden="true">
      <path
        d="M10.5 4.5 5.6 9.4a1.4 1.4 0 0 0 2 2l5-5a2.8 2.8 0 0 0-4-4l-5.1 5.1a4.2 4.2 0 0 0 6 6l4-4"
        fill="none"
        stroke="currentColor"
        stroke-width="1.3"
        stroke-linecap="round"
        stroke-linejoin="round"
      />
    </svg>
  );
}

/** The families of files the app draws differently. */
export type FileFamily = "pdf" | "image" | "archive" | "text" | "file";

/** A file's family from its (detected) MIME type. */
export function fileFamily(mime: string): FileFamily {
  if (mime === "application/pdf") return "pdf";
  if (mime.startsWith("image/")) return "image";
  if (mime === "application/zip") return "archive";
  if (mime.startsWith("text/")) return "text";
  return "file";
}

/**
 * A page with a folded corner and a mark for its family: lines for text, a landscape for
 * images, a zipper for archives, a band for PDF.
 */
export function FileTypeIcon(props: { mime: string; label?: string }) {
  const family = () => fileFamily(props.mime);
  return (
    <svg
      class="icon-svg file-icon"
      data-family={family()}
      viewBox="0 0 20 24"
      width="20"
      height="24"
      role={props.label ? "img" : undefined}
      aria-label={props.label}
      aria-hidden={props.label ? undefined : "true"}
    >
      <path d="M3 1.5h9.5L17 6v16.5H3z" fill="none" stroke="currentColor" stroke-width="1.3" stroke-linejoin="round" />
      <path d="M12.5 1.5V6H17" fill="none" stroke="currentColor" stroke-width="1.3" stroke-linejoin="round" />
      <Switch>
        <Match when={family() === "pdf"}>
          <rect x="5" y="12" width="10" height="5" rx="1" fill="currentColor" />
        </Match>
        <Match when={family() === "image"}>
          <circle cx="7.5" cy="10.5" r="1.5" fill="currentColor" />
          <path d="M5 19l3.5-4 2.5 2.5 1.5-1.5 2.5 3z" fill="currentColor" />
        </Match>
        <Match when={family() === "archive"}>
          <path d="M10 3v2M10 7v2M10 11v2" stroke="currentColor" stroke-width="1.3" />
          <rect x="8.5" y="14" width="3" height="4" rx="0.6" fill="none" stroke="currentColor" stroke-width="1.2" />
        </Match>
        <Match when={family() === "text"}>
          <path d="M5.5 11h9M5.5 14h9M5.5 17h6" stroke="currentColor" stroke-width="1.2" stroke-linecap="round" />
        </Match>
      </Switch>
    </svg>
  );
}
