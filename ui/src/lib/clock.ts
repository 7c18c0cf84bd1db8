// One shared 1 s clock for every countdown on screen. Only the text nodes that read `now()`
// update each second; rows and panels never re-render for time passing.
import { createSignal, onCleanup } from "solid-js";

const [now, setNow] = createSignal(Date.now());
let timer: ReturnType<typeof setInterval> | undefined;
let users = 0;

export { now };

/** Keeps the shared clock ticking while the calling component lives. */
export function useClock(): void {
  users += 1;
  if (timer === undefined) {
    setNow(Date.now());
    timer = setInterval(() => setNow(Date.now()), 1000);
  }
  onCleanup(() => {
    users -= 1;
    if (users === 0 && timer !== undefined) {
      clearInterval(timer);
      timer = undefined;
    }
  });
}
