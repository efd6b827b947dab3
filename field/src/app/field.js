// The app's actions: what a person does, written to the store (and so to the outbox), and
// the sync started when there is a network. The screens call these and nothing else.
import * as api from "./api.js";
import { capture, finishAll, kindOf, recover } from "./capture.js";
import { appendLines } from "./merge.js";
import { Position } from "./position.js";
import { Recording } from "./recorder.js";
import { Store } from "./store.js";
import { Sync } from "./sync.js";
import { rfc3339, uuid } from "./time.js";
import { Uploads } from "./uploads.js";

// Roles that run checks on a phone (sync-protocol.md, "Who may push").
export const FIELD_ROLES = new Set(["inspector", "supervisor"]);
const AGAIN_MS = 15_000;

export class Field {
  static async open() {
    const store = await Store.open();
    return new Field(store);
  }

  constructor(store) {
    this.store = store;
    this.position = new Position();
    this.uploads = new Uploads(store);
    this.sync = new Sync(store, this.uploads, () => finishAll(store));
    this.timer = null;
    this.recording = null; // the audio being recorded, whatever the screen
    api.session.token = store.meta.token || null;
    api.session.lang = store.meta.lang || "zh-CN";
    store.subscribe(() => {
      api.session.token = store.meta.token || null;
    });
    window.addEventListener("online", () => this.syncSoon(0));
    window.addEventListener("offline", () => this.uploads.abort());
  }

  /** What the app was doing when it was last closed: recordings, hashing. */
  recover() {
    return recover(this.store);
  }

  get user() {
    return this.store.meta.user || null;
  }

  /** Sync now (or after `ms`), and again while anything waits. */
  syncSoon(ms = 1500) {
    clearTimeout(this.timer);
    this.timer = setTimeout(async () => {
      await this.sync.run();
      if (this.waiting()) this.syncSoon(this.sync.error ? AGAIN_MS * 4 : AGAIN_MS);
    }, ms);
  }

  /** Whether anything still has to reach the server, or come back from it. */
  waiting() {
    const store = this.store;
    return store.outbox.length > 0 || [...store.files.values()].some((f) => !f.refused);
  }

  async signIn(username, password, deviceName) {
    const answer = await api.login(username, password, deviceName);
    const previous = this.user;
    if (!FIELD_ROLES.has(answer.user.role)) {
      await api.logout(answer.token).catch(() => {});
      throw new RoleError(answer.user.role);
    }
    if (previous && previous.id !== answer.user.id && this.waiting()) {
      // What is on this phone belongs to someone else, and only they may send it.
      await api.logout(answer.token).catch(() => {});
      throw new OwnerError(previous.name);
    }
    if (previous && previous.id !== answer.user.id) await this.store.wipe();
    await this.store.setMeta({ token: answer.token, device_id: answer.device_id,
      user: answer.user, expired: undefined });
    api.session.token = answer.token;
    this.keepStorage();
    this.syncSoon(0);
    return answer.user;
  }

  /** Revokes the token and leaves nothing of the bureau on the phone. Offline, the token
   * is revoked at the next sign-in's first network. */
  async signOut() {
    const token = this.store.meta.token;
    let revoked = false;
    if (token) revoked = await api.logout(token).then(() => true, (e) => e.status === 401);
    await this.store.wipe({ lang: this.store.meta.lang, revoke: revoked ? undefined : token });
    api.session.token = null;
  }

  /** A token left over from signing out offline is revoked when the network is back. */
  async revokeLeftover() {
    const token = this.store.meta.revoke;
    if (!token || !navigator.onLine) return;
    const done = await api.logout(token).then(() => true, (e) => e.status === 401);
    if (done) await this.store.setMeta({ revoke: undefined });
  }

  async setLanguage(lang) {
    api.session.lang = lang;
    await this.store.setMeta({ lang });
  }

  keepStorage() {
    if (navigator.storage && navigator.storage.persist) {
      navigator.storage.persist().then((granted) => this.store.setMeta({ persisted: granted }));
    }
  }

  async startCheck({ site, mode, plan }) {
    const id = uuid();
    const data = { site_id: site.id, mode, started_at: rfc3339() };
    if (plan) data.plan_id = plan.id;
    const location = this.position.now();
    if (location) data.location = location;
    await this.store.change("check", id, data);
    this.syncSoon();
    return id;
  }

  async endCheck(check) {
    await this.store.change("check", check.id, { ended_at: rfc3339() });
    this.syncSoon();
  }

  async addNote(check, line) {
    const text = line.trim();
    if (!text) return;
    await this.store.change("check", check.id, { notes: appendLines(check.notes, text) });
    this.syncSoon();
  }

  /** Creates or changes a finding, and ties the chosen evidence to it. */
  async saveFinding(check, finding, values, evidenceIds) {
    const id = finding ? finding.id : uuid();
    const data = finding ? changed(finding, values) : { check_id: check.id, ...values };
    const chosen = new Set(evidenceIds);
    const had = new Set(finding ? finding.evidence_ids || [] : []);
    const added = [...chosen].filter((e) => !had.has(e));
    if (added.length) data.evidence_ids = [...had, ...added];
    if (Object.keys(data).length) await this.store.change("finding", id, data);
    for (const evidenceId of added) await this.tie(evidenceId, id);
    this.syncSoon();
    return id;
  }

  async tie(evidenceId, findingId) {
    const file = this.store.files.get(evidenceId);
    if (file && !file.sha256) await this.store.updateFile(evidenceId, { finding_id: findingId });
    else await this.store.change("evidence", evidenceId, { finding_id: findingId });
  }

  /** Keeps each chosen or captured file as evidence of the check. */
  async captureFiles(check, files, { findingId = null } = {}) {
    const location = this.position.now();
    this.keepStorage();
    const ids = [];
    for (const file of files) {
      const kind = kindOf(file.type || "");
      if (!kind) continue;
      // A file taken now by the camera is dated now; one chosen from the gallery by its
      // own date (the server reads the true time from the file's metadata).
      const taken = Date.now() - file.lastModified < 5 * 60 * 1000 ? new Date() : new Date(file.lastModified);
      ids.push(await capture(this.store, { blob: file, kind, check: check.id, findingId,
        location, capturedAt: rfc3339(taken) }));
    }
    this.syncSoon();
    return ids;
  }

  async startRecording(check, findingId = null) {
    if (this.recording) return;
    this.keepStorage();
    this.recording = await Recording.start(this.store, { check: check.id, findingId,
      location: this.position.now() });
    this.store.emit();
  }

  async stopRecording() {
    const recording = this.recording;
    if (!recording) return;
    this.recording = null;
    this.store.emit();
    await recording.stop();
    this.syncSoon();
  }

  /** A conflict's way out: the person's change made again on the server's version. */
  async again(issue) {
    await this.store.change(issue.type, issue.entity_id, changed(issue.current || {}, issue.mine));
    await this.store.dismissIssue(issue.id);
    this.syncSoon(0);
  }

  /** A refused file is offered again (the reason may have been fixed at the desk). */
  async retryFile(evidenceId) {
    await this.store.updateFile(evidenceId, { refused: false, error: null });
    this.syncSoon(0);
  }
}

function changed(current, values) {
  const out = {};
  for (const [k, v] of Object.entries(values || {})) {
    if (JSON.stringify(current[k]) !== JSON.stringify(v)) out[k] = v;
  }
  return out;
}

export class RoleError extends Error {
  constructor(role) {
    super(role);
    this.role = role;
  }
}

export class OwnerError extends Error {
  constructor(owner) {
    super(owner);
    this.owner = owner;
  }
}
