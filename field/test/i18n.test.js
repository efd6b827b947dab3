import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { describe as words, setLanguage, t, WORDS } from "../src/app/i18n.js";
import { ApiError } from "../src/app/api.js";

function sources(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sources(path) : [path];
  }).filter((p) => /\.(js|jsx)$/.test(p));
}

describe("the app's words", () => {
  it("exist in Chinese and in English, the same keys", () => {
    expect(Object.keys(WORDS.en).sort()).toEqual(Object.keys(WORDS["zh-CN"]).sort());
  });

  it("cover every key the screens ask for", () => {
    const keys = new Set();
    for (const file of sources(join(__dirname, "../src/app"))) {
      for (const match of readFileSync(file, "utf8").matchAll(/\bt\("([\w.]+)"/g)) keys.add(match[1]);
    }
    const missing = [...keys].filter((k) => !(k in WORDS["zh-CN"]));
    expect(missing).toEqual([]);
    expect(keys.size).toBeGreaterThan(80);
  });

  it("fill their slots, and fall back to Chinese", () => {
    setLanguage("en");
    expect(t("gps_fix", { m: 12 })).toBe("Position ±12 m");
    setLanguage("fr");
    expect(t("gps_fix", { m: 12 })).toBe("定位 ±12 米");
  });

  it("say what a failure means and what to do", () => {
    setLanguage("zh-CN");
    expect(words(new ApiError(null))).toContain("没有网络");
    expect(words(new ApiError(401))).toContain("重新登录");
    expect(words(new ApiError(503))).toContain("稍后自动重试");
    expect(words(new ApiError(422, { detail: "开始时间不能晚于结束时间" }))).toBe("开始时间不能晚于结束时间");
    expect(words(Object.assign(new Error("x"), { name: "QuotaExceededError" }))).toContain("存储空间不足");
  });
});
