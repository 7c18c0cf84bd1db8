import { For } from "solid-js";
import { t, type Key } from "../i18n";
import { Dialog } from "./Dialog";

const KEYS: Array<[string, Key]> = [
  ["j / ↓", "help.next"],
  ["k / ↑", "help.previous"],
  ["Enter", "help.open"],
  ["r", "help.reply"],
  ["n", "help.note"],
  ["t", "help.template"],
  ["s", "help.status"],
  ["p", "help.priority"],
  ["a", "help.assign_me"],
  ["/", "help.search"],
  ["g v", "help.switch_view"],
  ["Ctrl/⌘ + Enter", "help.send"],
  ["Esc", "help.close"],
  ["?", "help.help"],
];

export function HelpOverlay(props: { onClose: () => void }) {
  return (
    <Dialog title={t("help.title")} onClose={props.onClose} testid="help-overlay">
      <dl class="keymap">
        <For each={KEYS}>
          {([keys, label]) => (
            <>
              <dt>
                <kbd>{keys}</kbd>
              </dt>
              <dd>{t(label)}</dd>
            </>
          )}
        </For>
      </dl>
    </Dialog>
  );
}
