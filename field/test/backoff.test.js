import { describe, expect, it } from "vitest";
import { ATTEMPTS, delay, retryable } from "../src/app/backoff.js";
import { ApiError } from "../src/app/api.js";

describe("backoff", () => {
  it("doubles from 0.5 s to a 30 s ceiling, with full jitter", () => {
    expect(delay(0, 0, () => 1)).toBe(500);
    expect(delay(3, 0, () => 1)).toBe(4000);
    expect(delay(10, 0, () => 1)).toBe(30_000);
    expect(delay(3, 0, () => 0)).toBe(0);
    expect(ATTEMPTS).toBe(6);
  });

  it("never waits less than Retry-After", () => {
    expect(delay(0, 7, () => 0.5)).toBe(7000);
  });

  it("retries no answer, 429 and 5xx; not other answers", () => {
    expect(retryable(new ApiError(null))).toBe(true);
    expect(retryable(new ApiError(429))).toBe(true);
    expect(retryable(new ApiError(503))).toBe(true);
    for (const status of [400, 401, 403, 404, 409, 413, 422]) {
      expect(retryable(new ApiError(status))).toBe(false);
    }
  });
});
