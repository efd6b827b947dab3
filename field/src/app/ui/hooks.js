// Screens re-render when the store, the sync, the uploads or the position change, at
// most once a frame.
import { useEffect, useState } from "preact/hooks";

export function useSubscribe(...sources) {
  const [, setTick] = useState(0);
  useEffect(() => {
    let frame = null;
    const rerender = () => {
      if (frame != null) return;
      frame = requestAnimationFrame(() => {
        frame = null;
        setTick((n) => n + 1);
      });
    };
    const offs = sources.map((source) => source.subscribe(rerender));
    return () => {
      offs.forEach((off) => off());
      if (frame != null) cancelAnimationFrame(frame);
    };
  }, sources);
}

/** An object URL for a blob while the component shows it, made once per `key`: a kept
 * file's blob is a new object after every write of its row, and each new URL would have
 * the browser load and decode the whole photo again. */
export function useObjectUrl(blob, key = blob) {
  const [url, setUrl] = useState(null);
  const present = Boolean(blob);
  useEffect(() => {
    if (!blob) {
      setUrl(null);
      return undefined;
    }
    const made = URL.createObjectURL(blob);
    setUrl(made);
    return () => URL.revokeObjectURL(made);
  }, [key, present]);
  return url;
}

export function useHashRoute() {
  const [hash, setHash] = useState(window.location.hash);
  useEffect(() => {
    const changed = () => setHash(window.location.hash);
    window.addEventListener("hashchange", changed);
    return () => window.removeEventListener("hashchange", changed);
  }, []);
  return hash.replace(/^#\/?/, "").split("/").filter(Boolean);
}

export const go = (path) => {
  window.location.hash = `#/${path}`;
};
