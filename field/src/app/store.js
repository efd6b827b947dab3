// Everything the phone holds, in IndexedDB, with a copy in memory for the screens. Each
// change is written with its outbox mutation in one transaction before anything else
// happens, so a reload, a killed tab or a dead battery loses nothing.
import { openDB } from "idb";
import { baseFor, settle } from "./outbox.js";
import { takes, view } from "./merge.js";
import { rfc3339, uuid } from "./time.js";

export const DB_NAME = "mingcha-field";
const STORES = ["meta", "records", "outbox", "files", "issues", "pieces"];

function upgrade(db) {
  db.createObjectStore("meta");
  db.createObjectStore("records", { keyPath: ["type", "id"] });
  const outbox = db.createObjectStore("outbox", { keyPath: "seq", autoIncrement: true });
  outbox.createIndex("entity", "entity_id");
  // A captured file until the server reports its evidence ready.
  db.createObjectStore("files", { keyPath: "evidence_id" });
  // Conflicts and rejections to show the person.
  db.createObjectStore("issues", { keyPath: "id" });
  // A recording's pieces as they are made, so a dead battery costs seconds, not the clip.
  db.createObjectStore("pieces", { keyPath: ["evidence_id", "n"] });
}

const key = (type, id) => `${type}:${id}`;

export class Store {
  static async open(name = DB_NAME) {
    const store = new Store(await openDB(name, 1, { upgrade }));
    await store.reload();
    return store;
  }

  constructor(db) {
    this.db = db;
    this.listeners = new Set();
    this.meta = {};
    this.records = new Map();
    this.outbox = [];
    this.files = new Map();
    this.issues = [];
  }

  subscribe(listener) {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit() {
    for (const listener of this.listeners) listener();
  }

  async reload() {
    const tx = this.db.transaction(["meta", "records", "outbox", "files", "issues"]);
    const [keys, values, records, outbox, files, issues] = await Promise.all([
      tx.objectStore("meta").getAllKeys(), tx.objectStore("meta").getAll(),
      tx.objectStore("records").getAll(), tx.objectStore("outbox").getAll(),
      tx.objectStore("files").getAll(), tx.objectStore("issues").getAll()]);
    this.meta = Object.fromEntries(keys.map((k, i) => [k, values[i]]));
    this.records = new Map(records.map((r) => [key(r.type, r.id), r]));
    this.outbox = outbox;
    this.files = new Map(files.map((f) => [f.evidence_id, f]));
    this.issues = issues.sort((a, b) => (a.at < b.at ? 1 : -1));
    this.emit();
  }

  async setMeta(values) {
    const tx = this.db.transaction("meta", "readwrite");
    for (const [k, v] of Object.entries(values)) {
      if (v === undefined) tx.store.delete(k);
      else tx.store.put(v, k);
    }
    await tx.done;
    Object.assign(this.meta, values);
    for (const [k, v] of Object.entries(values)) if (v === undefined) delete this.meta[k];
    this.emit();
  }

  /** One record as shown: the server's copy with the unsent changes on top. */
  get(type, id) {
    const queued = this.outbox.filter((m) => m.type === type && m.entity_id === id);
    const record = view(this.records.get(key(type, id)), queued);
    return record && !record.deleted ? record : null;
  }

  /** Every record of a type as shown, deleted ones left out. */
  all(type) {
    const queued = new Map();
    for (const m of this.outbox) {
      if (m.type !== type) continue;
      if (!queued.has(m.entity_id)) queued.set(m.entity_id, []);
      queued.get(m.entity_id).push(m);
    }
    const ids = new Set(queued.keys());
    for (const r of this.records.values()) if (r.type === type) ids.add(r.id);
    return [...ids].map((id) => view(this.records.get(key(type, id)), queued.get(id) || []))
      .filter((record) => record && !record.deleted);
  }

  /** Queue a change of a record (the whole of what the person did, in one mutation). */
  async change(type, entityId, data, op = "upsert") {
    const tx = this.db.transaction(["records", "outbox"], "readwrite");
    const [record, queued] = await Promise.all([
      tx.objectStore("records").get([type, entityId]),
      tx.objectStore("outbox").index("entity").getAll(entityId)]);
    const mutation = this.#mutation(type, op, entityId, data,
      baseFor(queued.filter((m) => m.type === type), entityId, record));
    mutation.seq = await tx.objectStore("outbox").add(mutation);
    await tx.done;
    this.outbox.push(mutation);
    this.emit();
    return mutation;
  }

  #mutation(type, op, entityId, data, base) {
    return { id: uuid(), type, op, entity_id: entityId, data: op === "upsert" ? data : null,
      base, client_time: rfc3339() };
  }

  /** A captured file, kept at once; its evidence record is queued once it is hashed. */
  async keepFile(row) {
    await this.db.put("files", row);
    this.files.set(row.evidence_id, row);
    this.emit();
  }

  async updateFile(evidenceId, values) {
    const tx = this.db.transaction("files", "readwrite");
    const row = await tx.store.get(evidenceId);
    if (!row) return null;
    Object.assign(row, values);
    await tx.store.put(row);
    await tx.done;
    this.files.set(evidenceId, row);
    this.emit();
    return row;
  }

  /** The hashed file's evidence record, queued in the same transaction as its hash. */
  async hashed(evidenceId, sha256, data, thumb = null) {
    const tx = this.db.transaction(["files", "records", "outbox"], "readwrite");
    const row = await tx.objectStore("files").get(evidenceId);
    row.sha256 = sha256;
    row.thumb = thumb;
    tx.objectStore("files").put(row);
    const mutation = this.#mutation("evidence", "upsert", evidenceId, { ...data, sha256 },
      { version: null });
    mutation.seq = await tx.objectStore("outbox").add(mutation);
    await tx.done;
    this.files.set(evidenceId, row);
    this.outbox.push(mutation);
    this.emit();
  }

  /** The push's answers, each settled as sync-protocol.md says, in one transaction. */
  async settlePush(batch, results) {
    const tx = this.db.transaction(["records", "outbox", "issues", "files"], "readwrite");
    const records = tx.objectStore("records");
    const outbox = tx.objectStore("outbox");
    let queued = await outbox.getAll();
    const effects = [];
    for (let i = 0; i < batch.length; i += 1) {
      const m = batch[i];
      const record = await records.get([m.type, m.entity_id]);
      const effect = settle(m, results[i], queued, record);
      effects.push(effect);
      if (effect.record) await records.put(effect.record);
      for (const q of queued) {
        if (effect.drop.includes(q.id)) await outbox.delete(q.seq);
        if (effect.rebase[q.id]) {
          q.base = effect.rebase[q.id];
          await outbox.put(q);
        }
      }
      queued = queued.filter((q) => !effect.drop.includes(q.id));
      if (effect.requeue) {
        const again = this.#mutation(effect.requeue.type, "upsert", effect.requeue.entity_id,
          effect.requeue.data, effect.requeue.base);
        again.seq = await outbox.add(again);
        queued.push(again);
      }
      if (effect.issue) {
        await tx.objectStore("issues").put({ ...effect.issue, id: uuid(), at: rfc3339() });
      }
      if (effect.issue && effect.issue.kind === "rejected" && m.type === "evidence"
        && !(record && record.version != null)) {
        // Its record will never be on the server: the file cannot go either. It stays on
        // the phone, shown with the reason, until the person deletes it.
        const file = await tx.objectStore("files").get(m.entity_id);
        if (file) {
          const error = effect.issue.error || {};
          await tx.objectStore("files").put({ ...file, refused: true,
            error: error.detail || error.title || "" });
        }
      }
    }
    await tx.done;
    await this.reload();
    return effects;
  }

  /** Drop a mutation that can never be sent (larger than any request), telling why. */
  async dropMutation(m, issue) {
    const tx = this.db.transaction(["outbox", "issues"], "readwrite");
    tx.objectStore("outbox").delete(m.seq);
    tx.objectStore("issues").put({ ...issue, id: uuid(), at: rfc3339() });
    await tx.done;
    await this.reload();
  }

  /** A page of pulled changes and its cursor, in one transaction. A file whose evidence
   * the server reports ready is no longer needed on the phone. */
  async applyPull(changes, cursor) {
    const tx = this.db.transaction(["records", "files", "meta"], "readwrite");
    const records = tx.objectStore("records");
    for (const change of changes) {
      const local = await records.get([change.type, change.entity_id]);
      if (!takes(local, change)) continue;
      if (change.op === "delete") {
        await records.put({ type: change.type, id: change.entity_id, version: change.version,
          data: null, deleted: true });
        if (change.type === "evidence") await tx.objectStore("files").delete(change.entity_id);
        continue;
      }
      await records.put({ type: change.type, id: change.entity_id, version: change.version,
        data: change.data, deleted: false });
      if (change.type === "evidence" && change.data.state === "ready") {
        await tx.objectStore("files").delete(change.entity_id);
      }
    }
    tx.objectStore("meta").put(cursor, "cursor");
    await tx.done;
    await this.reload();
  }

  async dropFile(evidenceId) {
    await this.db.delete("files", evidenceId);
    this.files.delete(evidenceId);
    this.emit();
  }

  async dismissIssue(id) {
    await this.db.delete("issues", id);
    this.issues = this.issues.filter((i) => i.id !== id);
    this.emit();
  }

  async addPiece(piece) {
    await this.db.put("pieces", piece);
  }

  /** The pieces of recordings not finished (the app was closed while recording). */
  async pieces() {
    const all = await this.db.getAll("pieces");
    const byEvidence = new Map();
    for (const p of all) {
      if (!byEvidence.has(p.evidence_id)) byEvidence.set(p.evidence_id, []);
      byEvidence.get(p.evidence_id).push(p);
    }
    return byEvidence;
  }

  async dropPieces(evidenceId) {
    const tx = this.db.transaction("pieces", "readwrite");
    const range = IDBKeyRange.bound([evidenceId, 0], [evidenceId, Infinity]);
    await tx.store.delete(range);
    await tx.done;
  }

  /** Sign-out: nothing of the bureau stays on the phone. */
  async wipe(keep = {}) {
    const tx = this.db.transaction(STORES, "readwrite");
    await Promise.all(STORES.map((name) => tx.objectStore(name).clear()));
    for (const [k, v] of Object.entries(keep)) tx.objectStore("meta").put(v, k);
    await tx.done;
    await this.reload();
  }
}
