// The phone's position while the app is open: the latest fix and its accuracy.
const FRESH_MS = 2 * 60 * 1000;

export class Position {
  constructor() {
    this.fix = null; // {lat, lon, accuracy_m, at}
    this.problem = null; // "denied" | "unavailable" | "unsupported"
    this.listeners = new Set();
    this.watch = null;
  }

  subscribe(listener) {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit() {
    for (const listener of this.listeners) listener();
  }

  start() {
    if (this.watch != null) return;
    if (!("geolocation" in navigator)) {
      this.problem = "unsupported";
      this.emit();
      return;
    }
    this.watch = navigator.geolocation.watchPosition((p) => {
      this.fix = { lat: p.coords.latitude, lon: p.coords.longitude,
        accuracy_m: Math.round(p.coords.accuracy * 10) / 10, at: Date.now() };
      this.problem = null;
      this.emit();
    }, (error) => {
      this.problem = error.code === 1 ? "denied" : "unavailable";
      this.emit();
    }, { enableHighAccuracy: true, maximumAge: 10_000, timeout: 60_000 });
  }

  /** The fix to record with a capture: only one from the last two minutes. */
  now() {
    if (!this.fix || Date.now() - this.fix.at > FRESH_MS) return null;
    const { lat, lon, accuracy_m } = this.fix;
    return { lat, lon, accuracy_m };
  }
}
