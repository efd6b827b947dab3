// One sync: hash what was captured, push the outbox, pull until done, upload the files,
// and pull again for what the uploads changed. Runs one at a time; asked again while
// running, it runs once more at the end.
import * as api from "./api.js";
import { ATTEMPTS, delay, retryable, sleep } from "./backoff.js";
import { MAX_MUTATIONS, nextBatch, wire } from "./outbox.js";

/** Calls `fn` again while the failure may pass (no answer, 429, 5xx), with backoff. */
export async function withRetry(fn, online = () => navigator.onLine) {
  for (let attempt = 0; ; attempt += 1) {
    try {
      return await fn();
    } catch (error) {
      const last = attempt + 1 >= ATTEMPTS;
      if (!retryable(error) || last || (error.offline && !online())) throw error;
      await sleep(delay(attempt, error.retryAfter));
    }
  }
}

export class Sync {
  constructor(store, uploads, hashing) {
    this.store = store;
    this.uploads = uploads;
    this.hashing = hashing;
    this.running = null;
    this.again = false;
    this.phase = null;
    this.error = null;
    this.listeners = new Set();
  }

  subscribe(listener) {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit() {
    for (const listener of this.listeners) listener();
  }

  set(values) {
    Object.assign(this, values);
    this.emit();
  }

  /** Runs a sync now, or once more after the one running. */
  run() {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      try {
        do {
          this.again = false;
          // One sync at a time across the app's tabs, each starting from what is stored.
          if (navigator.locks) await navigator.locks.request("mingcha-sync", () => this.once());
          else await this.once();
        } while (this.again);
      } finally {
        this.running = null;
        this.set({ phase: null });
      }
    })();
    this.emit();
    return this.running;
  }

  async once() {
    const store = this.store;
    try {
      await store.reload();
      this.set({ phase: "hash" });
      await this.hashing();
      if (!store.meta.token) return;
      if (!navigator.onLine) throw new api.ApiError(null, {});
      this.set({ phase: "push" });
      await this.pushAll();
      this.set({ phase: "pull" });
      await this.pullAll();
      this.set({ phase: "upload" });
      if (await this.uploads.run()) {
        this.set({ phase: "pull" });
        await this.pullAll();
      }
      await store.setMeta({ last_sync: new Date().toISOString() });
      this.set({ error: null });
    } catch (error) {
      if (error.status === 401) {
        // The token is gone (revoked, or the account disabled): sign in again; the outbox
        // and the files stay on the phone.
        await store.setMeta({ token: undefined, expired: true });
      }
      this.set({ error });
    }
  }

  async pushAll() {
    const store = this.store;
    let limit = MAX_MUTATIONS;
    for (;;) {
      const { batch, tooLarge } = nextBatch(store.outbox, { maxCount: limit });
      if (tooLarge) {
        await store.settlePush([tooLarge], [{ status: "rejected", version: null,
          error: { status: 413, title: "too_large" } }]);
        continue;
      }
      if (!batch.length) return;
      let answer;
      try {
        answer = await withRetry(() => api.push(store.meta.device_id, batch.map(wire)));
      } catch (error) {
        if (error.status === 413 && batch.length > 1) {
          limit = Math.ceil(batch.length / 2);
          continue;
        }
        throw error;
      }
      await store.settlePush(batch, answer.results);
    }
  }

  async pullAll() {
    const store = this.store;
    let cursor = store.meta.cursor || null;
    for (;;) {
      let page;
      try {
        page = await withRetry(() => api.pull(cursor));
      } catch (error) {
        if (error.status === 400 && cursor) {
          cursor = null; // "Invalid cursor": the server was reset; pull from the start
          continue;
        }
        throw error;
      }
      await store.applyPull(page.changes, page.cursor);
      cursor = page.cursor;
      if (!page.more) return;
    }
  }
}
