import { describe, expect, it } from "vitest";
import { bytes, rfc3339, stamp, uuid } from "../src/app/time.js";

describe("times and names", () => {
  it("are RFC 3339 with the phone's offset, naming the same instant", () => {
    const now = new Date("2026-11-30T01:12:03Z");
    const text = rfc3339(now);
    expect(text).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$/);
    expect(new Date(text).getTime()).toBe(now.getTime());
    expect(stamp(now)).toMatch(/^\d{8}-\d{6}$/);
  });

  it("make version-4 uuids and readable sizes", () => {
    expect(uuid()).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(bytes(3 * 1024 * 1024)).toBe("3.0 MB");
  });
});
