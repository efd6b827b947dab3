// The outbox's rules, as pure functions over plain objects (the IndexedDB side is in
// store.js). A mutation is queued with the change, in the same transaction, and keeps its
// id for ever, so sending it again is harmless. Its base is either the server version the
// person saw ({version}) or the mutation it was made on top of ({after}), which becomes a
// version when that one's result arrives.

export const MAX_MUTATIONS = 500;
// 5 MiB per request, less room for the envelope.
export const MAX_BYTES = 5 * 1024 * 1024 - 4096;

// Fields that merge on the server instead of conflicting (sync-protocol.md, "Conflicts").
export const APPEND_ONLY = {
  check: ["notes"],
  finding: ["evidence_ids"],
  rectification: ["evidence_ids"],
  evidence: ["finding_id", "filename", "captured_at", "location"],
};

export function byteLength(text) {
  return new TextEncoder().encode(text).length;
}

/** The mutation as sent on the wire. */
export function wire(m) {
  const out = { id: m.id, type: m.type, op: m.op, entity_id: m.entity_id,
    base_version: m.base.version ?? null, client_time: m.client_time };
  if (m.op === "upsert") out.data = m.data;
  return out;
}

/** The base of a new change of `entityId`: on top of its last queued mutation, or on the
 * version the phone holds (null: create). */
export function baseFor(queued, entityId, record) {
  const last = queued.filter((m) => m.entity_id === entityId).at(-1);
  if (last) return { after: last.id };
  return { version: record && record.version != null ? record.version : null };
}

/** The next request: mutations in order, one per record, stopping before the first that
 * must wait for an earlier result, within the limits. A mutation too large for any
 * request comes back as `tooLarge`. */
export function nextBatch(queued, { maxCount = MAX_MUTATIONS, maxBytes = MAX_BYTES } = {}) {
  const batch = [];
  const entities = new Set();
  let bytes = 0;
  for (const m of queued) {
    const size = byteLength(JSON.stringify(wire(m)));
    if (size > MAX_BYTES) {
      if (batch.length === 0) return { batch: [], tooLarge: m };
      break;
    }
    if (entities.has(m.entity_id) || m.base.after) break;
    if (batch.length >= maxCount || bytes + size > maxBytes) break;
    batch.push(m);
    entities.add(m.entity_id);
    bytes += size;
  }
  return { batch, tooLarge: null };
}

function pick(data, fields) {
  const out = {};
  for (const f of fields) if (data && data[f] !== undefined && data[f] !== null) out[f] = data[f];
  return out;
}

/** What the answer to one mutation does to the phone's state. Returns
 * {drop: [mutation ids], rebase: {mutationId: base}, record, issue, requeue}: the
 * mutations to remove, new bases for queued ones, the record as the server now holds it,
 * what to tell the person, and a mutation to queue again (the append-only part of a
 * change that conflicted). `queued` is the outbox in order, `record` the phone's copy. */
export function settle(m, result, queued, record) {
  const after = queued.filter((q) => q.entity_id === m.entity_id && q.seq > m.seq);
  const next = after[0];
  const out = { drop: [m.id], rebase: {}, record, issue: null, requeue: null };
  const server = record && record.data ? record.data : {};
  if (result.status === "applied" || result.status === "duplicate") {
    const data = m.op === "delete" ? null : { ...server, ...m.data };
    out.record = { type: m.type, id: m.entity_id, version: result.version, data,
      deleted: m.op === "delete" };
    if (next && next.base.after === m.id) out.rebase[next.id] = { version: result.version };
  } else if (result.status === "conflict") {
    // The server's record wins for now; the person's change, and those made on top of
    // it, are kept aside for them to decide; what merges anyway is sent again at once.
    const current = result.current;
    out.record = { type: m.type, id: m.entity_id, version: result.version,
      data: current, deleted: false };
    out.drop.push(...after.map((q) => q.id));
    const mine = [m, ...after].filter((q) => q.op === "upsert");
    const merged = Object.assign({}, ...mine.map((q) => q.data));
    const append = pick(merged, APPEND_ONLY[m.type] || []);
    if (Object.keys(append).length) {
      out.requeue = { type: m.type, op: "upsert", entity_id: m.entity_id, data: append,
        base: { version: result.version } };
    }
    out.issue = { kind: "conflict", type: m.type, entity_id: m.entity_id,
      mine: merged, current, version: result.version };
  } else {
    // Rejected: the change is dropped, the reason kept; the record's next change builds
    // on what the server holds.
    out.issue = { kind: "rejected", type: m.type, entity_id: m.entity_id, mine: m.data,
      error: result.error || null };
    if (next) out.rebase[next.id] = { version: record && record.version != null ? record.version : null };
  }
  return out;
}
