// A capture is kept in IndexedDB the moment it exists (the file, when and where it was
// taken); its sha256 is computed off the page's thread, and its evidence record is queued
// with the hash. Captures cut short (a reload before hashing, a recording when the battery
// died) are finished when the app opens again.
import { examine } from "./hash.js";
import { rfc3339, stamp, uuid } from "./time.js";

const EXTENSION = { "audio/webm": "webm", "audio/mp4": "m4a", "audio/ogg": "ogg",
  "audio/mpeg": "mp3", "video/mp4": "mp4", "video/webm": "webm", "video/quicktime": "mov",
  "image/jpeg": "jpg", "image/heic": "heic", "image/png": "png" };

export function kindOf(type) {
  if (type.startsWith("image/")) return "photo";
  if (type.startsWith("video/")) return "video";
  if (type.startsWith("audio/")) return "audio";
  return null;
}

export function nameFor(kind, type, date = new Date()) {
  const base = type.split(";")[0];
  const prefix = { photo: "IMG", audio: "REC", video: "VID" }[kind];
  return `${prefix}_${stamp(date)}.${EXTENSION[base] || "bin"}`;
}

/** Keeps one captured file for a check (and a finding), then hashes and queues it. */
export async function capture(store, { blob, kind, check, findingId = null, location,
  filename, capturedAt, evidenceId = uuid() }) {
  const row = {
    evidence_id: evidenceId, check_id: check, finding_id: findingId, kind,
    filename: filename || blob.name || nameFor(kind, blob.type),
    type: (blob.type || "").split(";")[0], size: blob.size, blob, sha256: null,
    captured_at: capturedAt || rfc3339(), location: location || null,
    uploaded: false, kept_at: rfc3339(),
  };
  await store.keepFile(row);
  await finish(store, row);
  return evidenceId;
}

// Files being hashed now: each is hashed and queued once.
const hashing = new Set();

/** Hashes a kept file and queues its evidence record. */
export async function finish(store, row) {
  if (hashing.has(row.evidence_id)) return;
  hashing.add(row.evidence_id);
  try {
    await hashAndQueue(store, store.files.get(row.evidence_id) || row);
  } finally {
    hashing.delete(row.evidence_id);
  }
}

async function hashAndQueue(store, row) {
  if (row.sha256) return;
  const { sha256: digest, thumb } = await examine(row.blob, row.kind === "photo");
  row = store.files.get(row.evidence_id) || row; // a finding may have been chosen meanwhile
  const data = { check_id: row.check_id, kind: row.kind, size: row.size,
    filename: row.filename, captured_at: row.captured_at };
  if (row.finding_id) data.finding_id = row.finding_id;
  if (row.location) data.location = row.location;
  await store.hashed(row.evidence_id, digest, data, thumb);
}

/** Hashes every kept file not hashed yet (its hashing was cut short). */
export async function finishAll(store) {
  for (const row of [...store.files.values()]) {
    if (!row.sha256) await finish(store, row);
  }
}

/** Finishes what the app was doing when it was closed: run once, when it opens, before
 * anything can be recorded. */
export async function recover(store) {
  for (const [evidenceId, pieces] of await store.pieces()) {
    if (!store.files.has(evidenceId)) {
      pieces.sort((a, b) => a.n - b.n);
      const first = pieces[0];
      const blob = new Blob(pieces.map((p) => p.blob), { type: first.type });
      await store.keepFile({
        evidence_id: evidenceId, check_id: first.check_id, finding_id: first.finding_id || null,
        kind: "audio", filename: nameFor("audio", first.type, new Date(first.started)),
        type: first.type.split(";")[0], size: blob.size, blob, sha256: null,
        captured_at: first.captured_at, location: first.location || null, uploaded: false,
        kept_at: rfc3339(), recovered: true,
      });
    }
    await store.dropPieces(evidenceId);
  }
  await finishAll(store);
}
