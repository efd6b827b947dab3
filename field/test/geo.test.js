import { describe, expect, it } from "vitest";
import { byDistance, distanceM, formatDistance } from "../src/app/geo.js";

describe("distances", () => {
  it("are great-circle metres", () => {
    // One degree of latitude is about 111.2 km.
    expect(distanceM({ lat: 34, lon: 117 }, { lat: 35, lon: 117 })).toBeCloseTo(111_195, -2);
    expect(distanceM({ lat: 34.26, lon: 117.19 }, { lat: 34.26, lon: 117.19 })).toBe(0);
  });

  it("sort the sites nearest first, those without coordinates last", () => {
    const fix = { lat: 34.26, lon: 117.19 };
    const sites = [
      { code: "A", name: "远", lat: 34.30, lon: 117.19 },
      { code: "B", name: "无坐标", lat: null, lon: null },
      { code: "C", name: "近", lat: 34.261, lon: 117.19 },
    ];
    expect(byDistance(sites, fix).map((x) => x.site.name)).toEqual(["近", "远", "无坐标"]);
    expect(byDistance(sites, null).map((x) => x.site.code)).toEqual(["A", "B", "C"]);
  });

  it("read as metres or kilometres", () => {
    expect(formatDistance(84.6)).toBe("85 m");
    expect(formatDistance(1234)).toBe("1.2 km");
    expect(formatDistance(36_400)).toBe("36 km");
  });
});
