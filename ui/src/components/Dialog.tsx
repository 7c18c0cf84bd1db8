import { onCleanup, onMount, type JSX } from "solid-js";
import { t } from "../i18n";

/** A modal dialog; Esc or the backdrop closes it. */
export function Dialog(props: { title: string; onClose: () => void; testid?: string; wide?: boolean; children: JSX.Element }) {
  let box: HTMLDivElement | undefined;
  const onKey = (e: KeyboardEvent) => {
    if (e.key === "Escape") {
      e.preventDefault();
      e.stopPropagation();
      props.onClose();
    }
  };
  onMount(() => {
    document.addEventListener("keydown", onKey, true);
    box?.querySelector<HTMLElement>("input, textarea, select, button.primary")?.focus();
  });
  onCleanup(() => document.removeEventListener("keydown", onKey, true));
  return (
    <div class="backdrop" onClick={(e) => e.target === e.currentTarget && props.onClose()}>
      <div class="dialog" classList={{ wide: !!props.wide }} role="dialog" aria-modal="true" aria-label={props.title} data-testid={props.testid} ref={box}>
        <header class="dialog-head">
          <h2>{props.title}</h2>
          <button type="button" class="icon" aria-label={t("common.close")} onClick={() => props.onClose()}>
            ×
          </button>
        </header>
        {props.children}
      </div>
    </div>
  );
}

/** Asks before something that cannot be undone. */
export function ConfirmDialog(props: {
  title: string;
  message: string;
  confirmLabel: string;
  danger?: boolean;
  busy?: boolean;
  error?: string | null;
  onConfirm: () => void;
  onCancel: () => void;
  /** The confirm button's test id (default `confirm-ok`). */
  confirmTestid?: string;
  children?: JSX.Element;
}) {
  return (
    <Dialog title={props.title} onClose={props.onCancel} testid="confirm-dialog">
      <p class="dialog-message">{props.message}</p>
      {props.children}
      {props.error ? (
        <p class="error" role="alert" data-testid="confirm-error">
          {props.error}
        </p>
      ) : null}
      <footer class="dialog-actions">
        <button type="button" onClick={() => props.onCancel()}>
          {t("common.cancel")}
        </button>
        <button
          type="button"
          class="primary"
          classList={{ danger: !!props.danger }}
          disabled={props.busy}
          data-testid={props.confirmTestid ?? "confirm-ok"}
          onClick={() => props.onConfirm()}
        >
          {props.confirmLabel}
        </button>
      </footer>
    </Dialog>
  );
}
