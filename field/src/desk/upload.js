// Rectification photos from the desk. They go through the phones' tus endpoint, so one
// server path stores, checks and processes every file: for each chosen file its sha256
// (the server checks the whole file against it), a new evidence id, a resumable upload,
// then the page's own route records the evidence from the finished upload.
//
// Enhances <form data-rectification-upload data-endpoint data-rectification-id
// data-record-url data-csrf-token> holding an <input type="file" multiple>, and a list
// marked data-progress for a line per file (made when the form has none).
import { Upload } from "tus-js-client";

// A lost connection costs at most one chunk, and a proxy sized for the sync push
// (MAX_BODY_BYTES, 5 MiB) lets chunks of that size through.
const CHUNK = 5 * 1024 * 1024;
const RETRY_DELAYS = [0, 1000, 3000, 5000];
const OFFLINE = "网络连接中断";

function kindOf(file) {
  if (file.type.startsWith("image/")) return "photo";
  if (file.type.startsWith("video/")) return "video";
  return null;
}

// The whole file is read into memory at once: SubtleCrypto has no streaming digest, and a
// photo is a few MB. A long video costs its size in memory; large videos would need a
// streaming sha256 first.
async function sha256(file) {
  const digest = await crypto.subtle.digest("SHA-256", await file.arrayBuffer());
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

function problemDetail(body) {
  try {
    const problem = JSON.parse(body);
    return problem.detail || problem.title || null;
  } catch (_) {
    return null;
  }
}

function reason(error) {
  const response = error && error.originalResponse;
  if (response) return problemDetail(response.getBody()) || `服务器答复 ${response.getStatus()}`;
  if (error && error.originalRequest) return OFFLINE; // tus: no answer at all
  if (error instanceof TypeError) return OFFLINE; // fetch: no answer at all
  return (error && error.message) || String(error);
}

function send(form, file, metadata, row) {
  return new Promise((resolve, reject) => {
    const upload = new Upload(file, {
      // Absolute: tus-js-client resolves the upload's Location against it.
      endpoint: new URL(form.dataset.endpoint, window.location.href).href,
      chunkSize: CHUNK,
      retryDelays: RETRY_DELAYS,
      headers: { "X-CSRFToken": form.dataset.csrfToken },
      metadata,
      removeFingerprintOnSuccess: true,
      onProgress: (sent, total) => row.progress(sent, total),
      onSuccess: () => resolve(upload.options.metadata.evidence_id),
      onError: reject,
    });
    // The same file chosen again after a failure, or after a reload, goes on from where it
    // stopped, under the evidence id it began with.
    upload.findPreviousUploads().then((previous) => {
      const same = previous.find((p) => p.metadata && p.metadata.sha256 === metadata.sha256
        && p.metadata.rectification_id === metadata.rectification_id);
      if (same) {
        upload.resumeFromPreviousUpload(same);
        upload.options.metadata = { ...metadata, evidence_id: same.metadata.evidence_id };
      }
      upload.start();
    }, () => upload.start());
  });
}

async function record(form, evidenceId) {
  const response = await fetch(form.dataset.recordUrl, {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", Accept: "application/json",
               "X-CSRFToken": form.dataset.csrfToken },
    body: JSON.stringify({ evidence_id: evidenceId }),
  });
  if (response.status !== 200 && response.status !== 201) {
    throw new Error(problemDetail(await response.text()) || `服务器答复 ${response.status}`);
  }
}

async function uploadFile(form, file, row) {
  const kind = kindOf(file);
  if (!kind) throw new Error("只能上传照片或视频");
  if (!file.size) throw new Error("文件为空");
  row.status("校验中…");
  const metadata = {
    evidence_id: crypto.randomUUID(),
    rectification_id: form.dataset.rectificationId,
    kind,
    filename: file.name,
    filetype: file.type,
    sha256: await sha256(file),
  };
  const evidenceId = await send(form, file, metadata, row);
  await record(form, evidenceId);
}

function addRow(list, name) {
  const item = document.createElement("li");
  item.className = "upload-item";
  const label = document.createElement("span");
  label.className = "upload-name";
  label.textContent = name;
  const bar = document.createElement("progress"); // no value yet: indeterminate
  bar.max = 100;
  bar.setAttribute("aria-label", name);
  const text = document.createElement("span");
  text.className = "upload-status";
  text.textContent = "等待中…";
  item.append(label, " ", bar, " ", text);
  list.appendChild(item);
  return {
    status: (words) => { text.textContent = words; },
    progress: (sent, total) => {
      const percent = total ? Math.floor((sent * 100) / total) : 0;
      bar.value = percent;
      text.textContent = `上传中… ${percent}%`;
    },
    done: () => {
      bar.value = 100;
      text.textContent = "已上传";
      item.classList.add("upload-done");
    },
    fail: (error) => {
      text.textContent = `上传失败：${reason(error)}`;
      item.classList.add("upload-failed");
    },
  };
}

// One file at a time: each is hashed in memory, and the connection is the limit anyway.
async function uploadAll(form, files, list) {
  const rows = files.map((file) => addRow(list, file.name));
  let failed = 0;
  for (let i = 0; i < files.length; i += 1) {
    try {
      await uploadFile(form, files[i], rows[i]);
      rows[i].done();
    } catch (error) {
      failed += 1;
      rows[i].fail(error);
    }
  }
  return failed === 0;
}

function enhance(form) {
  const input = form.querySelector('input[type="file"]');
  const { endpoint, rectificationId, recordUrl, csrfToken } = form.dataset;
  if (!input || !endpoint || !rectificationId || !recordUrl || !csrfToken) return;
  let list = form.querySelector("[data-progress]"); // the page's place for the lines
  if (!list) {
    list = document.createElement("ul");
    list.className = "upload-list";
    form.appendChild(list);
  }
  list.setAttribute("aria-live", "polite");
  // crypto.subtle and randomUUID exist only on HTTPS (or localhost).
  if (!window.isSecureContext || !window.crypto || !crypto.subtle || !crypto.randomUUID) {
    input.disabled = true;
    const note = document.createElement("li");
    note.className = "upload-failed";
    note.textContent = "请通过 HTTPS 打开本页后上传";
    list.appendChild(note);
    return;
  }
  let busy = false;
  const start = () => {
    const files = Array.from(input.files || []);
    if (busy || !files.length) return;
    busy = true;
    input.disabled = true;
    list.textContent = "";
    uploadAll(form, files, list).then((ok) => {
      if (ok) {
        // Emptied first: a browser that restores a form's fields on reload must not hand
        // the script files that are already up.
        input.value = "";
        window.location.reload(); // the page shows the new photos
        return;
      }
      busy = false; // failures stay listed; the person may choose those files again
      input.disabled = false;
      input.value = "";
    });
  };
  input.addEventListener("change", start);
  form.addEventListener("submit", (event) => {
    event.preventDefault(); // the files go by tus, never in the form's body
    start();
  });
  // On a slow connection the form is on screen before this script arrives: files chosen
  // in that moment fired their change event with no one listening.
  start();
}

function enhanceAll() {
  document.querySelectorAll("form[data-rectification-upload]").forEach(enhance);
}

if (document.readyState === "loading") {
  document.addEventListener("DOMContentLoaded", enhanceAll);
} else {
  enhanceAll();
}
