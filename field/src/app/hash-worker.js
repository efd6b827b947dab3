// sha256 of a captured file, off the page's thread. A photo is digested by Web Crypto in
// one piece; a larger file (a video) is read in slices and hashed incrementally, so no
// more than one slice is ever in memory. A photo also gets a small thumbnail here, so the
// screens never decode a whole photo to show it.
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex } from "@noble/hashes/utils.js";

const WHOLE = 16 * 1024 * 1024;
const SLICE = 4 * 1024 * 1024;

async function digest(blob) {
  if (blob.size <= WHOLE && self.crypto && self.crypto.subtle) {
    const hash = await self.crypto.subtle.digest("SHA-256", await blob.arrayBuffer());
    return bytesToHex(new Uint8Array(hash));
  }
  const hash = sha256.create();
  for (let at = 0; at < blob.size; at += SLICE) {
    hash.update(new Uint8Array(await blob.slice(at, at + SLICE).arrayBuffer()));
  }
  return bytesToHex(hash.digest());
}

const THUMB_PX = 192;

/** A small JPEG of the photo, or null where the browser cannot make one (older Safari has
 * no OffscreenCanvas; no browser decodes every format, HEIC among them). */
async function thumbnail(blob) {
  if (typeof OffscreenCanvas !== "function" || typeof createImageBitmap !== "function") return null;
  try {
    const bitmap = await createImageBitmap(blob, { resizeWidth: THUMB_PX, resizeQuality: "medium" });
    const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
    canvas.getContext("2d").drawImage(bitmap, 0, 0);
    bitmap.close();
    return await canvas.convertToBlob({ type: "image/jpeg", quality: 0.7 });
  } catch (_) {
    return null;
  }
}

self.onmessage = async (event) => {
  const { id, blob, photo } = event.data;
  try {
    const sha256 = await digest(blob);
    self.postMessage({ id, sha256, thumb: photo ? await thumbnail(blob) : null });
  } catch (error) {
    self.postMessage({ id, error: String((error && error.message) || error) });
  }
};
