/// <reference types="vitest/config" />
import { defineConfig } from "vite";
import solid from "vite-plugin-solid";

// The development bridge (`make dev` sets OUTPOST_BRIDGE): the browser preview's commands go to
// `/cmd/<name>` on this server, which forwards them to outpost-dev-bridge on loopback, so the
// page stays same-origin and the bridge sees a loopback Host and Origin.
const bridge = process.env.OUTPOST_BRIDGE ?? "http://127.0.0.1:1421";

// The app runs inside Tauri's WebKitGTK/WebView2/WKWebView under a strict CSP: relative asset
// paths, no inline scripts, nothing fetched from the network.
export default defineConfig({
  base: "./",
  plugins: [solid()],
  clearScreen: false,
  server: { port: 1420, strictPort: true, host: "localhost", proxy: { "/cmd": { target: bridge } } },
  build: {
    target: ["es2021", "safari15"],
    outDir: "dist",
    emptyOutDir: true,
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    sourcemap: false,
  },
  test: {
    environment: "happy-dom",
    include: ["src/**/*.test.{ts,tsx}"],
    setupFiles: ["src/test/setup.ts"],
    server: { deps: { inline: [/solid-js/, /@solidjs/, /@tanstack/] } },
  },
});
