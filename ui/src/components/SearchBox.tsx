import { createSignal, For, onCleanup, Show } from "solid-js";
import type { SearchHit } from "../backend";
import { useDesk } from "../state/app";
import { Highlight } from "./Highlight";
import { PriorityChip, StatusChip } from "./Chips";
import { t } from "../i18n";
import { rememberKeys } from "../lib/keys";

const KEY_PATTERN = /^[A-Za-z]+-\d+$/;
const DEBOUNCE_MS = 80;
const LIMIT = 20;

/** Instant local search over the cache; matches come back as character ranges. */
export function SearchBox(props: { onOpen: (id: string) => void; inputRef?: (el: HTMLInputElement) => void }) {
  const desk = useDesk();
  const [query, setQuery] = createSignal("");
  const [hits, setHits] = createSignal<SearchHit[]>([]);
  const [open, setOpen] = createSignal(false);
  const [active, setActive] = createSignal(0);
  const [error, setError] = createSignal<string | null>(null);
  let timer: ReturnType<typeof setTimeout> | undefined;
  let seq = 0;
  let input: HTMLInputElement | undefined;
  onCleanup(() => clearTimeout(timer));

  const run = async (q: string) => {
    const mine = (seq += 1);
    if (!q.trim()) {
      setHits([]);
      return;
    }
    try {
      const found = await desk.backend.search(q, LIMIT);
      if (mine !== seq) return;
      rememberKeys(found);
      setHits(found);
      setActive(0);
      setError(null);
    } catch (e) {
      if (mine === seq) setError(e instanceof Error ? e.message : String(e));
    }
  };

  const onInput = (value: string) => {
    setQuery(value);
    setOpen(true);
    clearTimeout(timer);
    timer = setTimeout(() => void run(value), DEBOUNCE_MS);
  };

  const close = () => {
    setOpen(false);
    input?.blur();
  };

  const openHit = (id: string) => {
    props.onOpen(id);
    setOpen(false);
  };

  const openKey = async () => {
    try {
      openHit(await desk.backend.resolveKey(query().trim()));
    } catch {
      setError(t("search.key_not_found", { key: query().trim() }));
    }
  };

  const onKeyDown = (e: KeyboardEvent) => {
    if (e.key === "Escape") {
      e.preventDefault();
      close();
    } else if (e.key === "ArrowDown") {
      e.preventDefault();
      setActive((i) => Math.min(i + 1, hits().length - 1));
    } else if (e.key === "ArrowUp") {
      e.preventDefault();
      setActive((i) => Math.max(i - 1, 0));
    } else if (e.key === "Enter") {
      e.preventDefault();
      if (KEY_PATTERN.test(query().trim())) void openKey();
      else {
        const hit = hits()[active()];
        if (hit) openHit(hit.id);
      }
    }
  };

  return (
    <div class="search" role="search">
      <input
        ref={(el) => {
          input = el;
          props.inputRef?.(el);
        }}
        type="search"
        class="search-input"
        data-testid="search-input"
        placeholder={t("search.placeholder")}
        aria-label={t("search.placeholder")}
        value={query()}
        onInput={(e) => onInput(e.currentTarget.value)}
        onKeyDown={onKeyDown}
        onFocus={() => setOpen(true)}
        onBlur={() => setTimeout(() => setOpen(false), 150)}
        autocomplete="off"
        spellcheck={false}
      />
      <Show when={open() && query().trim()}>
        <div class="search-results" data-testid="search-results" role="listbox">
          <Show when={error()}>
            <p class="error">{error()}</p>
          </Show>
          <Show when={KEY_PATTERN.test(query().trim())}>
            <button type="button" class="search-key" onMouseDown={(e) => e.preventDefault()} onClick={() => void openKey()}>
              {t("search.open_key", { key: query().trim().toUpperCase() })}
            </button>
          </Show>
          <Show when={hits().length === 0 && !error()}>
            <p class="empty">{t("search.no_results")}</p>
          </Show>
          <For each={hits()}>
            {(hit, i) => (
              <div
                class="search-hit"
                classList={{ active: i() === active() }}
                data-testid="search-hit"
                role="option"
                aria-selected={i() === active()}
                onMouseDown={(e) => e.preventDefault()}
                onClick={() => openHit(hit.id)}
              >
                <div class="hit-line">
                  <span class="row-key">{hit.key ?? t("ticket.unsynced_key")}</span>
                  <PriorityChip priority={hit.priority} />
                  <StatusChip status={hit.status} />
                  <Highlight value={hit.subject} class="hit-subject" />
                </div>
                <Highlight value={hit.snippet} class="hit-snippet" />
              </div>
            )}
          </For>
        </div>
      </Show>
    </div>
  );
}
