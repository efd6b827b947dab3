// How pulled changes meet the phone's records, and how a record looks with the person's
// unsent changes on top. Pure functions.

/** Whether a pulled change replaces the phone's copy: unless the phone already holds a
 * higher version of that record (an equal one is taken: it carries the server's fields). */
export function takes(local, change) {
  return !local || local.version == null || change.version >= local.version;
}

/** The record as the phone shows it: the server's data with the queued changes on top,
 * in order. Notes merge by line, as the server merges them. */
export function view(record, queued) {
  let data = record && record.data ? { ...record.data } : null;
  let deleted = Boolean(record && record.deleted);
  for (const m of queued) {
    if (m.op === "delete") {
      deleted = true;
      continue;
    }
    data = { ...(data || { id: m.entity_id }), ...m.data };
    deleted = false;
  }
  if (!data) return null;
  return { ...data, id: record ? record.id : queued[0].entity_id, deleted,
    version: record ? record.version : null, pending: queued.length > 0 };
}

/** Lines of `more` not yet in `notes`, appended (the server's merge of check notes). */
export function appendLines(notes, more) {
  const have = (notes || "").split("\n").filter(Boolean);
  for (const line of (more || "").split("\n")) {
    if (line.trim() && !have.includes(line)) have.push(line);
  }
  return have.join("\n");
}
