// An attachment entry in the timeline: the app's icon for its type, name, size, where its bytes
// are, and what can be done with it. Files are never opened here: Save… writes them where the
// user chooses (the shell's dialog), Preview shows an image the shell decoded and re-encoded.
import { createSignal, Show } from "solid-js";
import type { AttachmentView, ImagePreview } from "../../backend";
import { useDesk } from "../../state/app";
import { errorText } from "../../lib/errors";
import { t } from "../../i18n";
import { Dialog } from "../Dialog";
import { FileTypeIcon } from "../icons";
import { familyLabel, formatSize, hasBytes, previewable, stateText } from "./format";
import "./attachments.css";

/** What the entry itself says about the file (its body), beside the cache's view of it. */
export type AttachmentFacts = { ticket_id: string; attachment_id: string; filename: string; mime: string; size: number };

export function AttachmentRow(props: {
  facts: AttachmentFacts;
  /** Where the bytes are; `undefined` until the cache answered. */
  view: AttachmentView | undefined;
  offline: boolean;
  /** A newer view after a download. */
  onView: (view: AttachmentView) => void;
}) {
  const desk = useDesk();
  const [busy, setBusy] = createSignal(false);
  const [error, setError] = createSignal<string | null>(null);
  const [note, setNote] = createSignal<string | null>(null);
  const [preview, setPreview] = createSignal<ImagePreview | null>(null);

  const run = async (action: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    setNote(null);
    try {
      await action();
    } catch (e) {
      setError(errorText(e));
    } finally {
      setBusy(false);
    }
  };
  const ids = () => [props.facts.ticket_id, props.facts.attachment_id] as const;
  const download = () => run(async () => props.onView(await desk.backend.fetchAttachment(...ids())));
  const save = () =>
    run(async () => {
      const saved = await desk.backend.saveAttachment(...ids());
      if (saved) setNote(t("attachment.saved", { path: saved.path }));
    });
  const openPreview = () => run(async () => void setPreview(await desk.backend.previewAttachment(...ids())));

  const state = () => props.view?.state;
  return (
    <div class="attachment-row" data-testid="attachment-row" data-state={state()}>
      <FileTypeIcon mime={props.facts.mime} label={familyLabel(props.facts.mime)} />
      <span class="attachment-name" data-testid="customer-text">
        {props.facts.filename}
      </span>
      <span class="attachment-meta">{formatSize(props.facts.size)}</span>
      <Show when={props.view}>
        {(v) => (
          <span class="attachment-meta" data-testid="attachment-state">
            {stateText(v().state, v().sent_bytes, v().size, props.offline, v().reason)}
          </span>
        )}
      </Show>
      <span class="attachment-actions">
        <Show when={state() === "remote"}>
          <button
            type="button"
            data-testid="attachment-download"
            disabled={busy() || props.offline}
            title={props.offline ? t("attachment.offline_hint") : undefined}
            onClick={() => void download()}
          >
            {t("attachment.download")}
          </button>
        </Show>
        <Show when={state() && hasBytes(state()!)}>
          <button type="button" data-testid="attachment-save" disabled={busy()} onClick={() => void save()}>
            {t("attachment.save")}
          </button>
          <Show when={previewable(props.facts.mime)}>
            <button type="button" data-testid="attachment-preview" disabled={busy()} onClick={() => void openPreview()}>
              {t("attachment.preview")}
            </button>
          </Show>
        </Show>
      </span>
      <Show when={state() === "remote" && props.offline}>
        <p class="attachment-note" data-testid="attachment-offline">
          {t("attachment.offline_hint")}
        </p>
      </Show>
      <Show when={note()}>
        <p class="attachment-note" role="status" data-testid="attachment-saved">
          {note()}
        </p>
      </Show>
      <Show when={error()}>
        <p class="error attachment-error" role="alert" data-testid="attachment-error">
          {error()}
        </p>
      </Show>
      <Show when={preview()}>
        {(p) => <PreviewDialog name={props.facts.filename} preview={p()} onClose={() => setPreview(null)} />}
      </Show>
    </div>
  );
}

/** The shell's PNG of an image, drawn from a data URL (the CSP allows `img-src data:`). */
function PreviewDialog(props: { name: string; preview: ImagePreview; onClose: () => void }) {
  return (
    <Dialog title={t("attachment.preview_title", { name: props.name })} onClose={props.onClose} testid="attachment-preview-dialog" wide>
      <img
        class="preview-image"
        data-testid="attachment-preview-image"
        src={`data:image/png;base64,${props.preview.png_base64}`}
        width={props.preview.width}
        height={props.preview.height}
        alt={props.name}
      />
      <p class="preview-caption">{t("attachment.preview_size", { width: props.preview.width, height: props.preview.height })}</p>
    </Dialog>
  );
}
