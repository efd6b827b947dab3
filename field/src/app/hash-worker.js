// sha256 of a captured file, off the page's thread. A photo is digested by Web Crypto in
// one piece; a larger file (a video) is read in slices and hashed incrementally, so no
// more than one slice is ever in memory.
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

self.onmessage = async (event) => {
  const { id, blob } = event.data;
  try {
    self.postMessage({ id, sha256: await digest(blob) });
  } catch (error) {
    self.postMessage({ id, error: String((error && error.message) || error) });
  }
};
