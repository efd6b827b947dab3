// One check: capture photos, audio and video, note findings, answer the reviewers.
import { useEffect, useState } from "preact/hooks";
import { describe, t } from "../i18n.js";
import { canRecord } from "../recorder.js";
import { short } from "../time.js";
import { Badge, FileButton, ModeBadge, Thumb, useConfirm } from "./common.jsx";
import { GpsLine } from "./home.jsx";
import { go } from "./hooks.js";

/** The check's evidence: records (the server's, or queued) and files not yet hashed. */
export function evidenceOf(store, checkId) {
  const items = new Map(store.all("evidence").filter((e) => e.check_id === checkId)
    .map((e) => [e.id, e]));
  for (const f of store.files.values()) {
    if (f.check_id === checkId && !items.has(f.evidence_id)) {
      items.set(f.evidence_id, { id: f.evidence_id, kind: f.kind, filename: f.filename,
        captured_at: f.captured_at, finding_id: f.finding_id });
    }
  }
  return [...items.values()].sort((a, b) => String(a.captured_at).localeCompare(String(b.captured_at)));
}

/** Where one piece of evidence stands, in words. */
export function standing(field, item) {
  const file = field.store.files.get(item.id);
  const progress = field.uploads.progress.get(item.id);
  if (item.review_state && item.review_state !== "pending") {
    return { text: t(`review.${item.review_state}`), kind: item.review_state };
  }
  if (file) {
    if (!file.sha256) return { text: t("file.hashing"), kind: "pending" };
    if (file.refused) return { text: `${t("file.refused")}：${file.error || ""}`, kind: "rejected" };
    if (!file.uploaded && progress && field.uploads.active.has(item.id)) {
      return { text: t("file.uploading", { percent: Math.floor((progress[0] / (progress[1] || 1)) * 100) }), kind: "pending" };
    }
    if (!file.uploaded) return { text: t("file.queued"), kind: "pending" };
    if (!item.state || item.state === "awaiting_upload") return { text: t("file.uploaded"), kind: "pending" };
  }
  if (item.state) return { text: t(`state.${item.state}`), kind: item.state };
  return { text: t("file.queued"), kind: "pending" };
}

/** The record button; the recording itself belongs to the app, so it goes on (and can be
 * stopped) when the person moves between screens. */
function Recorder({ field, check, findingId, label, onError }) {
  const recording = field.recording;
  const [seconds, setSeconds] = useState(0);
  useEffect(() => {
    if (!recording) return undefined;
    const timer = setInterval(() => setSeconds(Math.round((Date.now() - recording.started) / 1000)), 500);
    return () => clearInterval(timer);
  }, [recording]);
  if (!canRecord()) return null;
  if (recording && recording.check === check.id) {
    return (
      <button type="button" class="button recording" data-testid="stop-audio" onClick={async () => {
        try {
          await field.stopRecording();
        } catch (error) {
          onError(error);
        }
      }}>{t("stop_recording", { seconds: `${seconds}s` })}</button>
    );
  }
  return (
    <button type="button" class="button" data-testid="record-audio" disabled={Boolean(recording)}
      onClick={async () => {
        try {
          setSeconds(0);
          await field.startRecording(check, findingId);
        } catch (error) {
          onError(error.name === "NotAllowedError" ? new Error(t("mic_refused")) : error);
        }
      }}>{label}</button>
  );
}

export function CheckScreen({ field, checkId }) {
  const store = field.store;
  const check = store.get("check", checkId);
  const [note, setNote] = useState("");
  const [error, setError] = useState(null);
  const [ask, dialog] = useConfirm();
  if (!check) return <main class="screen"><p class="empty">{t("no_checks")}</p></main>;
  const site = store.get("site", check.site_id);
  const plan = check.plan_id ? store.get("plan", check.plan_id) : null;
  const categories = new Map(store.all("category").map((c) => [c.id, c]));
  const findings = store.all("finding").filter((f) => f.check_id === check.id);
  const items = evidenceOf(store, check.id);
  const asked = items.filter((e) => e.review_state === "needs_info");

  const keep = async (files, options) => {
    setError(null);
    try {
      await field.captureFiles(check, files, options);
    } catch (e) {
      setError(e.name === "QuotaExceededError" ? new Error(t("storage_full")) : e);
    }
  };

  return (
    <main class="screen check">
      <header class="check-head">
        <h1>{site ? site.name : "—"} <ModeBadge mode={check.mode} /></h1>
        {plan && <p class="meta">{t("plan")}：{plan.title}</p>}
        <p class="meta">{t("started", { time: short(check.started_at) })}
          {check.ended_at && ` · ${t("ended", { time: short(check.ended_at) })}`}</p>
        <p class="meta"><GpsLine position={field.position} /></p>
      </header>

      {asked.map((e) => (
        <section class="asked" key={e.id} data-testid="needs-info">
          <h2>{t("needs_info")}</h2>
          <p class="note">{e.review_note}</p>
          <p class="meta">{t(`kind.${e.kind}`)} {e.filename} · {short(e.captured_at)}</p>
          <div class="row">
            <FileButton label={t("answer_photo")} accept="image/*" capture="environment"
              testid="answer-photo" onFiles={(files) => keep(files, { findingId: e.finding_id })} />
            <Recorder field={field} check={check} findingId={e.finding_id} label={t("answer_audio")}
              onError={setError} />
          </div>
        </section>
      ))}

      <section class="capture" aria-label={t("evidence")}>
        <FileButton label={t("photo")} accept="image/*" capture="environment" className="primary"
          testid="take-photo" onFiles={(files) => keep(files)} />
        <Recorder field={field} check={check} label={t("audio")} onError={setError} />
        <FileButton label={t("video")} accept="video/*" capture="environment" testid="take-video"
          onFiles={(files) => keep(files)} />
        <FileButton label={t("gallery")} accept="image/*,video/*,audio/*" multiple testid="gallery"
          onFiles={(files) => keep(files)} />
      </section>
      {!canRecord() && <p class="meta">{t("no_recorder")}</p>}
      {error && <p class="error" role="alert">{describe(error)}</p>}

      <section>
        <h2>{t("findings")}</h2>
        {findings.length === 0 && <p class="empty">{t("no_findings")}</p>}
        {findings.map((f) => (
          <a class="card" href={`#/check/${check.id}/finding/${f.id}`} key={f.id}>
            <strong>{categories.get(f.category_id)?.name_zh || "—"}</strong>
            {" "}<Badge kind={f.severity}>{t(`severity.${f.severity || "general"}`)}</Badge>
            {f.state && <Badge kind={f.state}>{t(`finding.${f.state}`)}</Badge>}
            <span class="text">{f.description}</span>
            <span class="meta">{t("evidence")} {items.filter((e) => e.finding_id === f.id).length}</span>
          </a>
        ))}
        <a class="button wide" href={`#/check/${check.id}/finding/new`}>{t("add_finding")}</a>
      </section>

      <section>
        <h2>{t("evidence")}（{items.length}）</h2>
        {items.length === 0 && <p class="empty">{t("no_evidence")}</p>}
        <ul class="evidence">
          {items.map((e) => {
            const where = standing(field, e);
            return (
              <li key={e.id} data-evidence={e.id}>
                <Thumb thumb={store.files.get(e.id)?.thumb} kind={e.kind} id={e.id} ready={e.state === "ready"} />
                <span class="what">{t(`kind.${e.kind}`)} · {short(e.captured_at)}</span>
                <Badge kind={where.kind}>{where.text}</Badge>
              </li>
            );
          })}
        </ul>
      </section>

      <section>
        <h2>{t("notes")}</h2>
        {check.notes && <p class="notes">{check.notes}</p>}
        <form class="row" onSubmit={async (event) => {
          event.preventDefault();
          await field.addNote(check, note);
          setNote("");
        }}>
          <input name="note" value={note} placeholder={t("note_placeholder")} aria-label={t("notes")}
            onInput={(e) => setNote(e.currentTarget.value)} />
          <button type="submit" class="secondary">{t("add_note")}</button>
        </form>
      </section>

      {!check.ended_at && (
        <button type="button" class="danger wide" onClick={async () => {
          if (await ask({ text: t("end_confirm") })) {
            await field.endCheck(check);
            go("");
          }
        }}>{t("end_check")}</button>
      )}
      {dialog}
    </main>
  );
}
