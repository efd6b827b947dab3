// Screens re-render when the store, the sync, the uploads or the position change, at most
// ten times a second: a sync of hundreds of files changes the store hundreds of times, and
// every redraw of a long list takes CPU the uploads need.
import { useEffect, useState } from "preact/hooks";

const REDRAW_MS = 100;

export function useSubscribe(...sources) {
  const [, setTick] = useState(0);
  useEffect(() => {
    let timer = null;
    const rerender = () => {
      if (timer != null) return;
      timer = setTimeout(() => {
        timer = null;
        setTick((n) => n + 1);
      }, REDRAW_MS);
    };
    const offs = sources.map((source) => source.subscribe(rerender));
    return () => {
      offs.forEach((off) => off());
      clearTimeout(timer);
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
