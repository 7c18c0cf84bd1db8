import { render } from "solid-js/web";
import { getBackend } from "./backend";
import { App } from "./App";
import { guardFileDrops } from "./components/attachments/dropGuard";
import "./styles.css";

guardFileDrops(window);

const root = document.getElementById("root");
if (root) {
  void getBackend().then((backend) => render(() => <App backend={backend} />, root));
}
