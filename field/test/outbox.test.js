import { describe, expect, it } from "vitest";
import { APPEND_ONLY, baseFor, MAX_BYTES, nextBatch, settle, wire } from "../src/app/outbox.js";

let seq = 0;
function m(entity, data = { notes: "x" }, base = { version: null }, extra = {}) {
  seq += 1;
  return { seq, id: `m${seq}`, type: "check", op: "upsert", entity_id: entity, data, base,
    client_time: "2026-11-30T09:00:00+08:00", ...extra };
}

describe("the wire form of a mutation", () => {
  it("carries the base version, and data only on an upsert", () => {
    const up = wire(m("a", { notes: "n" }, { version: 3 }));
    expect(up).toMatchObject({ type: "check", op: "upsert", entity_id: "a", base_version: 3,
      data: { notes: "n" } });
    const gone = wire({ ...m("a"), op: "delete", data: null });
    expect(gone).not.toHaveProperty("data");
    expect(wire(m("b")).base_version).toBeNull();
  });
});

describe("the base of a new change", () => {
  it("builds on the last queued change of the same record", () => {
    const first = m("a");
    expect(baseFor([first, m("b")], "a", { version: 2 })).toEqual({ after: first.id });
  });

  it("builds on the version the phone holds, or creates", () => {
    expect(baseFor([], "a", { version: 4 })).toEqual({ version: 4 });
    expect(baseFor([], "a", undefined)).toEqual({ version: null });
  });
});

describe("the next batch", () => {
  it("keeps order and sends one mutation per record, stopping at the second", () => {
    const a1 = m("a");
    const b1 = m("b");
    const a2 = m("a", { ended_at: "t" }, { after: a1.id });
    const c1 = m("c");
    const { batch } = nextBatch([a1, b1, a2, c1]);
    expect(batch.map((x) => x.id)).toEqual([a1.id, b1.id]);
  });

  it("stops at a mutation still waiting for an earlier result", () => {
    const waiting = m("a", {}, { after: "gone" });
    expect(nextBatch([waiting, m("b")]).batch).toEqual([]);
  });

  it("holds at most the given count and bytes", () => {
    const many = Array.from({ length: 12 }, (_, i) => m(`e${i}`));
    expect(nextBatch(many, { maxCount: 5 }).batch).toHaveLength(5);
    const size = JSON.stringify(wire(many[0])).length;
    expect(nextBatch(many, { maxBytes: size * 3 + 1 }).batch).toHaveLength(3);
  });

  it("gives back a mutation too large for any request", () => {
    const huge = m("a", { notes: "长".repeat(MAX_BYTES / 2) });
    const { batch, tooLarge } = nextBatch([huge, m("b")]);
    expect(batch).toEqual([]);
    expect(tooLarge).toBe(huge);
  });
});

describe("settling an answer", () => {
  const record = { type: "check", id: "a", version: 2, data: { id: "a", notes: "old", mode: "open" } };

  it("applied: the record takes the change and its version; the next change rebases", () => {
    const first = m("a", { notes: "old\nnew" }, { version: 2 });
    const next = m("a", { ended_at: "t" }, { after: first.id });
    const out = settle(first, { status: "applied", version: 3 }, [first, next], record);
    expect(out.drop).toEqual([first.id]);
    expect(out.record).toMatchObject({ version: 3, data: { notes: "old\nnew", mode: "open" } });
    expect(out.rebase).toEqual({ [next.id]: { version: 3 } });
    expect(out.issue).toBeNull();
  });

  it("duplicate is the same as applied", () => {
    const first = m("a", { notes: "x" }, { version: 2 });
    expect(settle(first, { status: "duplicate", version: 3 }, [first], record).record.version).toBe(3);
  });

  it("conflict: the server's record wins, the change is kept aside, notes are sent again", () => {
    const first = m("a", { notes: "old\nmine", ended_at: "t1" }, { version: 1 });
    const next = m("a", { notes: "old\nmine\nmore" }, { after: first.id });
    const other = m("b");
    const current = { id: "a", version: 5, notes: "old\ntheirs", mode: "open" };
    const out = settle(first, { status: "conflict", version: 5, current }, [first, next, other], record);
    expect(out.drop).toEqual([first.id, next.id]);
    expect(out.record).toMatchObject({ version: 5, data: current });
    expect(out.issue).toMatchObject({ kind: "conflict", mine: { notes: "old\nmine\nmore", ended_at: "t1" } });
    expect(out.requeue).toEqual({ type: "check", op: "upsert", entity_id: "a",
      data: { notes: "old\nmine\nmore" }, base: { version: 5 } });
  });

  it("conflict of a field that cannot merge queues nothing again", () => {
    const first = m("a", { ended_at: "t1" }, { version: 1 });
    const out = settle(first, { status: "conflict", version: 5, current: { id: "a" } }, [first], record);
    expect(out.requeue).toBeNull();
  });

  it("rejected: dropped with its reason; the next change builds on the server's copy", () => {
    const first = m("a", { mode: "bogus" }, { version: 2 });
    const next = m("a", { notes: "n" }, { after: first.id });
    const error = { status: 422, detail: "bad mode" };
    const out = settle(first, { status: "rejected", version: null, error }, [first, next], record);
    expect(out.drop).toEqual([first.id]);
    expect(out.issue).toMatchObject({ kind: "rejected", error });
    expect(out.rebase).toEqual({ [next.id]: { version: 2 } });
  });

  it("append-only fields are the protocol's", () => {
    expect(APPEND_ONLY.check).toEqual(["notes"]);
    expect(APPEND_ONLY.finding).toEqual(["evidence_ids"]);
  });
});
