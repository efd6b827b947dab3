// Distances on the phone: the sites nearest first.
const EARTH_M = 6_371_008.8;
const rad = (deg) => (deg * Math.PI) / 180;

/** Great-circle distance in metres (haversine). */
export function distanceM(a, b) {
  const dLat = rad(b.lat - a.lat);
  const dLon = rad(b.lon - a.lon);
  const h = Math.sin(dLat / 2) ** 2
    + Math.cos(rad(a.lat)) * Math.cos(rad(b.lat)) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_M * Math.asin(Math.min(1, Math.sqrt(h)));
}

/** Sites with their distance from `fix`, nearest first; without a fix, by code. Sites
 * without coordinates come last. */
export function byDistance(sites, fix) {
  const placed = sites.map((site) => ({
    site,
    distance: fix && site.lat != null && site.lon != null ? distanceM(fix, site) : null,
  }));
  return placed.sort((a, b) => {
    if (a.distance != null && b.distance != null) return a.distance - b.distance;
    if (a.distance != null) return -1;
    if (b.distance != null) return 1;
    return String(a.site.code || a.site.name).localeCompare(String(b.site.code || b.site.name));
  });
}

/** "85 m", "1.2 km", "36 km". */
export function formatDistance(m) {
  if (m == null) return "";
  if (m < 1000) return `${Math.round(m)} m`;
  if (m < 10_000) return `${(m / 1000).toFixed(1)} km`;
  return `${Math.round(m / 1000)} km`;
}
