// Small pieces the screens share.
import { useEffect, useState } from "preact/hooks";
import { API, headers } from "../api.js";
import { t } from "../i18n.js";
import { useObjectUrl } from "./hooks.js";

export function Badge({ kind, children }) {
  return <span class={`badge ${kind || ""}`}>{children}</span>;
}

export function ModeBadge({ mode }) {
  return <Badge kind={mode === "covert" ? "covert" : "open"}>{t(`mode.${mode}`)}</Badge>;
}

export function Progress({ sent, total, label }) {
  const percent = total ? Math.floor((sent / total) * 100) : 0;
  return (
    <div class="progress" role="progressbar" aria-label={label} aria-valuemin="0"
      aria-valuemax="100" aria-valuenow={percent}>
      <span style={{ width: `${percent}%` }} />
    </div>
  );
}

/** A question in the page (not the browser's dialog): one thumb reaches both buttons. */
export function Confirm({ text, detail, yes, danger, onYes, onNo }) {
  return (
    <div class="sheet-backdrop" onClick={onNo}>
      <div class="sheet" role="alertdialog" aria-modal="true" aria-label={text}
        onClick={(event) => event.stopPropagation()}>
        {detail && <p class="warning">{detail}</p>}
        <p class="question">{text}</p>
        <div class="row">
          <button type="button" class="secondary" onClick={onNo}>{t("cancel")}</button>
          <button type="button" class={danger ? "danger" : "primary"} onClick={onYes}>
            {yes || t("confirm")}
          </button>
        </div>
      </div>
    </div>
  );
}

export function useConfirm() {
  const [asking, setAsking] = useState(null);
  const ask = (options) => new Promise((resolve) => setAsking({ ...options, resolve }));
  const dialog = asking && (
    <Confirm {...asking} onYes={() => { setAsking(null); asking.resolve(true); }}
      onNo={() => { setAsking(null); asking.resolve(false); }} />
  );
  return [ask, dialog];
}

// Thumbnails of photos no longer on the phone, fetched from the server once per app run.
const served = new Map();

function useServedThumb(id, wanted) {
  const [url, setUrl] = useState(served.get(id) || null);
  useEffect(() => {
    if (!wanted || served.has(id) || !navigator.onLine) return;
    fetch(`${API}/evidence/${id}/files/thumb.jpg`, { headers: headers(), credentials: "omit" })
      .then((r) => (r.ok ? r.blob() : null))
      .then((blob) => {
        if (!blob) return;
        served.set(id, URL.createObjectURL(blob));
        setUrl(served.get(id));
      }, () => {});
  }, [id, wanted]);
  return url;
}

/** A photo's thumbnail: made on the phone when it was taken, or the server's once the
 * file has left the phone. */
export function Thumb({ thumb, kind, id, ready }) {
  const local = useObjectUrl(kind === "photo" ? thumb : null, id);
  const remote = useServedThumb(id, kind === "photo" && !thumb && ready);
  const url = local || remote;
  if (url) return <img class="thumb" src={url} alt="" loading="lazy" decoding="async" />;
  return <span class={`thumb icon ${kind}`} aria-hidden="true">{{ photo: "▣", audio: "♪", video: "▶" }[kind]}</span>;
}

/** A button that opens the camera or the file picker. */
export function FileButton({ label, accept, capture, multiple, onFiles, className, testid }) {
  return (
    <label class={`button ${className || ""}`} data-testid={testid}>
      {label}
      <input type="file" accept={accept} capture={capture} multiple={multiple} hidden
        onChange={(event) => {
          const files = [...event.currentTarget.files];
          event.currentTarget.value = "";
          if (files.length) onFiles(files);
        }} />
    </label>
  );
}
