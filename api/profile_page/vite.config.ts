// Vite bundles the page into dist/: index.html, which the app serves at /researchers/{slug},
// and hashed assets, which it serves under /profile-assets/ (api/profile_page/__init__.py).
import { defineConfig } from "vite";

export default defineConfig({
  base: "/profile-assets/",
  build: {
    outDir: "dist",
    emptyOutDir: true,
    // One script and one stylesheet; Chart.js is in the script, no other host is named.
    assetsInlineLimit: 0,
    sourcemap: true,
  },
});
