import { defineConfig } from "vitest/config";

// The unit tests cover the app's rules (outbox, merge, backoff, distances, words); the
// browser journeys in tests/e2e cover the app in Debian's chromium against the server.
export default defineConfig({
  test: { include: ["test/**/*.test.js"], environment: "node" },
});
