// What waits to go, what went, and what needs the person: in words they can act on.
import { useEffect, useState } from "preact/hooks";
import { describe, t } from "../i18n.js";
import { bytes, short } from "../time.js";
import { Progress, useConfirm } from "./common.jsx";

export function pending(field) {
  const files = [...field.store.files.values()];
  const toSend = files.filter((f) => !f.uploaded && !f.refused);
  return {
    records: field.store.outbox.length,
    files: toSend.length,
    bytes: toSend.reduce((sum, f) => sum + (f.size || 0), 0),
    processing: files.filter((f) => f.uploaded).length,
    refused: files.filter((f) => f.refused),
  };
}

function useStorage(field) {
  const [estimate, setEstimate] = useState(null);
  useEffect(() => {
    if (navigator.storage && navigator.storage.estimate) {
      navigator.storage.estimate().then(setEstimate, () => {});
    }
  }, [field.store.files.size]);
  return estimate;
}

function what(issue) {
  return t(`type.${issue.type}`);
}

const TIMES = new Set(["started_at", "ended_at", "captured_at", "deadline", "submitted_at"]);

/** "结束时间：12-02 09:30；记录：…" — the person's change in their words. */
function values(data) {
  return Object.entries(data || {}).map(([field, value]) => {
    const label = t(`field.${field}`) === `field.${field}` ? field : t(`field.${field}`);
    const shown = TIMES.has(field) ? short(value)
      : typeof value === "object" ? JSON.stringify(value) : value;
    return `${label}：${shown}`;
  }).join("；");
}

function Issue({ field, issue }) {
  if (issue.kind === "conflict") {
    return (
      <li class="issue">
        <p>{t("conflict", { what: what(issue) })}</p>
        <p class="meta">{t("conflict_mine", { values: values(issue.mine) })}</p>
        <div class="row">
          <button type="button" class="secondary" onClick={() => field.store.dismissIssue(issue.id)}>{t("keep_server")}</button>
          <button type="button" class="primary" onClick={() => field.again(issue)}>{t("send_mine")}</button>
        </div>
      </li>
    );
  }
  const error = issue.error || {};
  const why = error.title === "too_large" ? t("err_too_large") : (error.detail || error.title || "");
  return (
    <li class="issue">
      <p>{t("rejected", { what: what(issue), why })}</p>
      <button type="button" class="secondary" onClick={() => field.store.dismissIssue(issue.id)}>{t("ok")}</button>
    </li>
  );
}

export function SyncPanel({ field }) {
  const sync = field.sync;
  const waiting = pending(field);
  const storage = useStorage(field);
  const totals = field.uploads.totals();
  const active = [...field.uploads.active.keys()];
  const last = field.store.meta.last_sync;
  const [ask, dialog] = useConfirm();
  return (
    <main class="screen sync">
      <h1>{t("sync_title")} <span class={`dot ${navigator.onLine ? "on" : "off"}`}>{navigator.onLine ? t("online") : t("offline")}</span></h1>
      <p class="status" role="status">
        {sync.running ? t("syncing", { phase: t(`phase_${sync.phase || "push"}`) })
          : last ? t("last_sync", { time: short(last) }) : t("never_synced")}
      </p>
      {sync.error && <p class="error" role="alert">{describe(sync.error)}</p>}
      <dl class="figures">
        <div><dt>{t("pending_records")}</dt><dd data-testid="pending-records">{waiting.records}</dd></div>
        <div><dt>{t("pending_files")}</dt><dd data-testid="pending-files">{waiting.files}（{bytes(waiting.bytes)}）</dd></div>
        <div><dt>{t("processing_files")}</dt><dd>{waiting.processing}</dd></div>
      </dl>
      {!waiting.records && !waiting.files && !waiting.processing && <p class="ok">{t("all_synced")}</p>}
      {totals.total > 0 && (
        <div class="uploads">
          <p>{t("overall")} {bytes(totals.sent)} / {bytes(totals.total)}</p>
          <Progress sent={totals.sent} total={totals.total} label={t("overall")} />
          {active.map((id) => {
            const [sent, total] = field.uploads.progress.get(id) || [0, 1];
            const file = field.store.files.get(id);
            return (
              <div class="file-progress" key={id}>
                <span>{file ? file.filename : id}</span>
                <Progress sent={sent} total={total} label={file ? file.filename : id} />
              </div>
            );
          })}
        </div>
      )}
      <button type="button" class="primary wide" disabled={Boolean(sync.running) || !field.store.meta.token}
        onClick={() => field.syncSoon(0)}>{t("sync_now")}</button>

      {(field.store.issues.length > 0 || waiting.refused.length > 0) && (
        <section>
          <h2>{t("problems")}</h2>
          <ul class="issues">
            {field.store.issues.map((issue) => <Issue field={field} issue={issue} key={issue.id} />)}
            {waiting.refused.map((f) => (
              <li class="issue" key={f.evidence_id}>
                <p>{t("file_refused", { name: f.filename, why: f.error || "" })}</p>
                <div class="row">
                  <button type="button" class="secondary" onClick={() => field.retryFile(f.evidence_id)}>{t("retry")}</button>
                  <button type="button" class="danger" onClick={async () => {
                    if (await ask({ text: t("drop_file_confirm", { name: f.filename }), danger: true })) {
                      await field.store.dropFile(f.evidence_id);
                    }
                  }}>{t("drop_file")}</button>
                </div>
              </li>
            ))}
          </ul>
        </section>
      )}

      <section>
        <h2>{t("storage")}</h2>
        {storage && <p>{t("storage_use", { used: bytes(storage.usage || 0), free: bytes(Math.max(0, (storage.quota || 0) - (storage.usage || 0))) })}</p>}
        {field.store.meta.persisted ? <p class="ok">{t("persisted")}</p> : (
          <div>
            <p class="warning">{t("not_persisted")}</p>
            <button type="button" class="secondary" onClick={() => field.keepStorage()}>{t("ask_persist")}</button>
          </div>
        )}
      </section>
      {dialog}
    </main>
  );
}
