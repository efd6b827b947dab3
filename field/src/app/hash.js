// Asks the hashing worker for a file's sha256 (and a photo's thumbnail); one worker
// serves the whole app.
/* global __HASH_WORKER__ */
let worker = null;
let next = 0;
const waiting = new Map();

function start() {
  worker = new Worker(__HASH_WORKER__);
  worker.onmessage = (event) => {
    const { id, sha256, thumb, error } = event.data;
    const done = waiting.get(id);
    waiting.delete(id);
    if (error) done.reject(new Error(error));
    else done.resolve({ sha256, thumb });
  };
}

/** {sha256, thumb}: the file's digest, and for a photo a small JPEG (or null). */
export function examine(blob, photo) {
  if (!worker) start();
  next += 1;
  const id = next;
  return new Promise((resolve, reject) => {
    waiting.set(id, { resolve, reject });
    worker.postMessage({ id, blob, photo });
  });
}
