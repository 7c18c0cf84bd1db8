import { afterEach } from "vitest";
import { cleanup } from "@solidjs/testing-library";
import { setLang } from "../i18n";

afterEach(() => {
  cleanup();
  setLang("en");
});
