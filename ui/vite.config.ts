/// <reference types="vitest/config" />
import { defineConfig } from "vite";
import solid from "vite-plugin-solid";

// The app runs inside Tauri's WebKitGTK/WebView2/WKWebView under a strict CSP: relative asset
// paths, no inline scripts, nothing fetched from the network.
export default defineConfig({
  base: "./",
  plugins: [solid()],
  clearScreen: false,
  server: { port: 1420, strictPort: true },
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
