// Audio by MediaRecorder. Every second's piece is written to IndexedDB as it comes, so
// a recording cut by a dead battery or a closed app is recovered up to its last second.
import { capture, nameFor } from "./capture.js";
import { rfc3339, uuid } from "./time.js";

const TYPES = ["audio/webm;codecs=opus", "audio/mp4", "audio/ogg;codecs=opus"];

export const canRecord = () => typeof window.MediaRecorder === "function"
  && Boolean(navigator.mediaDevices && navigator.mediaDevices.getUserMedia);

export class Recording {
  /** Starts recording for a check; rejects if the microphone is refused. */
  static async start(store, { check, findingId = null, location }) {
    const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
    const type = TYPES.find((t) => MediaRecorder.isTypeSupported(t)) || "";
    const recorder = new MediaRecorder(stream, type ? { mimeType: type } : {});
    return new Recording(store, recorder, stream, { check, findingId, location });
  }

  constructor(store, recorder, stream, { check, findingId, location }) {
    this.store = store;
    this.recorder = recorder;
    this.stream = stream;
    this.id = uuid();
    this.check = check;
    this.findingId = findingId;
    this.location = location;
    this.started = Date.now();
    this.capturedAt = rfc3339();
    this.pieces = [];
    this.writes = [];
    recorder.ondataavailable = (event) => {
      if (!event.data || !event.data.size) return;
      const n = this.pieces.length;
      this.pieces.push(event.data);
      // The first piece carries what a recovery needs.
      const first = n === 0 ? { type: this.type, check_id: check, finding_id: findingId,
        location, captured_at: this.capturedAt, started: this.started } : {};
      this.writes.push(store.addPiece({ evidence_id: this.id, n, blob: event.data, ...first }));
    };
    recorder.start(1000);
  }

  get type() {
    return (this.recorder.mimeType || "audio/webm").split(";")[0];
  }

  /** Stops, keeps the clip as evidence, and returns its evidence id. */
  stop() {
    return new Promise((resolve, reject) => {
      this.recorder.onstop = async () => {
        this.stream.getTracks().forEach((track) => track.stop());
        try {
          await Promise.all(this.writes);
          const blob = new Blob(this.pieces, { type: this.type });
          const id = await capture(this.store, { blob, kind: "audio", check: this.check,
            findingId: this.findingId, location: this.location, evidenceId: this.id,
            capturedAt: this.capturedAt, filename: nameFor("audio", this.type, new Date(this.started)) });
          await this.store.dropPieces(this.id);
          resolve(id);
        } catch (error) {
          reject(error);
        }
      };
      this.recorder.stop();
    });
  }
}
