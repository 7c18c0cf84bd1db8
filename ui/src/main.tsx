import { render } from "solid-js/web";
import { getBackend } from "./backend";
import { App } from "./App";
import "./styles.css";

const root = document.getElementById("root");
if (root) {
  void getBackend().then((backend) => render(() => <App backend={backend} />, root));
}
