import { For } from "solid-js";
import type { Highlighted } from "../backend";
import { segments } from "../lib/highlight";

/** Customer text with search matches in <mark>: text nodes only, never parsed as HTML. */
export function Highlight(props: { value: Highlighted; class?: string }) {
  return (
    <span class={props.class} data-testid="customer-text">
      <For each={segments(props.value)}>{(seg) => (seg.mark ? <mark>{seg.text}</mark> : <>{seg.text}</>)}</For>
    </span>
  );
}
