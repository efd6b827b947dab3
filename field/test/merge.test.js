import { describe, expect, it } from "vitest";
import { appendLines, takes, view } from "../src/app/merge.js";

describe("a pulled change", () => {
  it("replaces an older or equal copy, never a newer one", () => {
    expect(takes(undefined, { version: 1 })).toBe(true);
    expect(takes({ version: 2 }, { version: 3 })).toBe(true);
    expect(takes({ version: 3 }, { version: 3 })).toBe(true);
    expect(takes({ version: 4 }, { version: 3 })).toBe(false);
    expect(takes({ version: null }, { version: 1 })).toBe(true);
  });
});

describe("a record as shown", () => {
  it("is the server's data with the queued changes on top, in order", () => {
    const record = { type: "check", id: "a", version: 2, data: { id: "a", notes: "x", mode: "open" } };
    const shown = view(record, [{ op: "upsert", entity_id: "a", data: { notes: "x\ny" } },
      { op: "upsert", entity_id: "a", data: { ended_at: "t" } }]);
    expect(shown).toMatchObject({ id: "a", notes: "x\ny", ended_at: "t", mode: "open", version: 2,
      pending: true, deleted: false });
  });

  it("exists before the server has it, and disappears when deleted", () => {
    expect(view(undefined, [{ op: "upsert", entity_id: "n", data: { mode: "covert" } }]))
      .toMatchObject({ id: "n", mode: "covert", version: null, pending: true });
    expect(view({ id: "a", version: 1, data: { id: "a" } }, [{ op: "delete", entity_id: "a" }]).deleted).toBe(true);
    expect(view(undefined, [])).toBeNull();
  });
});

describe("notes", () => {
  it("gain new lines once, in order", () => {
    expect(appendLines("a\nb", "c")).toBe("a\nb\nc");
    expect(appendLines("a\nb", "b")).toBe("a\nb");
    expect(appendLines("", "first")).toBe("first");
    expect(appendLines(null, "  ")).toBe("");
  });
});
