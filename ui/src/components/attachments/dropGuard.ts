// With the shell's own drag-and-drop interception off (tauri.conf.json `dragDropEnabled: false`),
// a file dropped anywhere but the composer would get the webview's default: open the file in
// the window. The guard refuses such drops; the composer's own handlers run first and mark the
// drags they take (`preventDefault`).

const carriesFiles = (e: DragEvent) => !!e.dataTransfer && [...e.dataTransfer.types].includes("Files");

/** Makes file drops outside a drop target do nothing. Returns the function that removes it. */
export function guardFileDrops(target: Window): () => void {
  const over = (e: DragEvent) => {
    if (!carriesFiles(e) || e.defaultPrevented) return;
    e.preventDefault();
    if (e.dataTransfer) e.dataTransfer.dropEffect = "none";
  };
  const drop = (e: DragEvent) => {
    if (carriesFiles(e)) e.preventDefault();
  };
  target.addEventListener("dragover", over);
  target.addEventListener("drop", drop);
  return () => {
    target.removeEventListener("dragover", over);
    target.removeEventListener("drop", drop);
  };
}
