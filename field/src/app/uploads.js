// The captured files go up by tus (tus-js-client): resumable, in chunks, a few at a time.
// The upload's URL is kept with the file in IndexedDB as soon as the server gives it, so
// after a lost network or a restart the upload goes on from the server's offset (tus-js-
// client asks with HEAD). A file is uploaded once its evidence record is on the server,
// and kept on the phone until the server reports the evidence ready.
import { Upload } from "tus-js-client";
import { API, ApiError, session } from "./api.js";

// A lost connection costs at most one chunk; the server's proxies take 5 MiB requests.
export const CHUNK = 5 * 1024 * 1024;
// A small file goes in the creating request itself (one round trip less). A larger one is
// created first, so that a cut in its first bytes still leaves an upload to resume.
const IN_CREATION = 1024 * 1024;
const PARALLEL = 3;
const RETRY_DELAYS = [0, 1000, 3000, 5000];
// Answers after which the same request may succeed.
const AGAIN = new Set([409, 423, 429]);

function statusOf(error) {
  const response = error && error.originalResponse;
  return response ? response.getStatus() : null;
}

function problemOf(error) {
  try {
    return JSON.parse(error.originalResponse.getBody()) || {};
  } catch (_) {
    return {};
  }
}

export class Uploads {
  constructor(store) {
    this.store = store;
    this.progress = new Map(); // evidence id -> [sent, total]
    this.listeners = new Set();
    this.active = new Map(); // evidence id -> {upload, reject}
    this.pending = null; // a redraw asked for
  }

  subscribe(listener) {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit() {
    for (const listener of this.listeners) listener();
  }

  /** Progress redraws the screens at most five times a second: drawing a list of
   * hundreds of photos at every chunk's progress would take the CPU the uploads need. */
  progressed() {
    if (this.pending) return;
    this.pending = setTimeout(() => {
      this.pending = null;
      this.emit();
    }, 200);
  }

  /** Files waiting to go up: hashed, their record on the server, not yet sent. */
  waiting() {
    const store = this.store;
    return [...store.files.values()].filter((row) => {
      if (!row.sha256 || row.uploaded || row.refused) return false;
      const record = store.records.get(`evidence:${row.evidence_id}`);
      return record && record.version != null && !record.deleted;
    });
  }

  /** Uploads every waiting file; the number sent. Throws the first failure that stops
   * more than one file (no network, signed out). */
  async run() {
    const queue = this.waiting();
    this.progress = new Map(queue.map((row) => [row.evidence_id, [0, row.size]]));
    this.emit();
    let sent = 0;
    let stop = null;
    const worker = async () => {
      while (queue.length && !stop) {
        const row = queue.shift();
        try {
          await this.send(row);
          sent += 1;
        } catch (error) {
          if (error.offline || error.status === 401) stop = error;
          else await this.store.updateFile(row.evidence_id, { error: error.message });
        }
      }
    };
    await Promise.all(Array.from({ length: PARALLEL }, worker));
    if (stop) throw stop;
    return sent;
  }

  send(row) {
    const store = this.store;
    const id = row.evidence_id;
    return new Promise((resolve, reject) => {
      const upload = new Upload(row.blob, {
        endpoint: new URL(`${API}/uploads`, window.location.href).href,
        uploadUrl: row.upload_url || null,
        chunkSize: CHUNK,
        retryDelays: RETRY_DELAYS,
        uploadDataDuringCreation: row.size <= IN_CREATION,
        storeFingerprintForResuming: false, // the URL is kept in IndexedDB instead
        headers: { Authorization: `Bearer ${session.token}`, "Accept-Language": session.lang },
        metadata: { evidence_id: id, check_id: row.check_id, kind: row.kind,
          filename: row.filename, filetype: row.type || "application/octet-stream",
          sha256: row.sha256 },
        onUploadUrlAvailable: () => store.updateFile(id, { upload_url: upload.url }),
        onProgress: (sent, total) => {
          this.progress.set(id, [sent, total]);
          this.progressed();
        },
        onShouldRetry: (error) => {
          const status = statusOf(error);
          return status == null || AGAIN.has(status) || status >= 500;
        },
        onSuccess: async () => {
          this.active.delete(id);
          this.progress.set(id, [row.size, row.size]);
          await store.updateFile(id, { uploaded: true, upload_url: null, error: null });
          this.emit();
          resolve();
        },
        onError: async (error) => {
          this.active.delete(id);
          const status = statusOf(error);
          this.emit();
          if (status == null) {
            reject(new ApiError(null, {}));
            return;
          }
          const problem = problemOf(error);
          // 403, 413, 460 on the whole file: sending it again will not help.
          const refused = [403, 413, 460].includes(status);
          await store.updateFile(id, { upload_url: status === 404 || status === 410 ? null
            : row.upload_url, refused, error: problem.detail || problem.title || `HTTP ${status}` });
          reject(new ApiError(status, problem));
        },
      });
      this.active.set(id, { upload, reject });
      upload.start();
    });
  }

  /** Stops every upload now (the network went); they resume on the next sync. */
  abort() {
    for (const { upload, reject } of this.active.values()) {
      upload.abort();
      reject(new ApiError(null, {}));
    }
    this.active.clear();
  }

  totals() {
    let sent = 0;
    let total = 0;
    for (const [s, t] of this.progress.values()) {
      sent += s;
      total += t;
    }
    return { sent, total };
  }
}
