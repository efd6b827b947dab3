// Retries of a request that may succeed later (no network, 429, 5xx): exponential backoff
// with full jitter, 0.5 s doubling to 30 s, at most 6 attempts, never sooner than the
// server's Retry-After (sync-protocol.md, "How a phone should behave").
export const ATTEMPTS = 6;
const FIRST = 500;
const CAP = 30_000;

export function delay(attempt, retryAfterSeconds = 0, random = Math.random) {
  const ceiling = Math.min(CAP, FIRST * 2 ** attempt);
  return Math.max(random() * ceiling, (retryAfterSeconds || 0) * 1000);
}

/** Whether an error is worth retrying: no answer at all, 429, or a server error. */
export function retryable(error) {
  if (!error || error.status == null) return true;
  return error.status === 429 || error.status >= 500;
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
