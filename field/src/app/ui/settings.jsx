import { useState } from "preact/hooks";
import { t } from "../i18n.js";
import { useConfirm } from "./common.jsx";
import { pending } from "./sync.jsx";

export function Settings({ field }) {
  const user = field.user;
  const [ask, dialog] = useConfirm();
  const [busy, setBusy] = useState(false);
  const waiting = pending(field);
  const unsent = waiting.records + waiting.files;

  async function signOut() {
    const question = unsent
      ? { text: t("sign_out_anyway"), detail: t("sign_out_pending", { n: unsent }), danger: true }
      : { text: t("sign_out_confirm") };
    if (!(await ask(question))) return;
    setBusy(true);
    await field.signOut();
    window.location.hash = "#/";
  }

  return (
    <main class="screen settings">
      <h1>{t("settings_title")}</h1>
      <p>{t("signed_in_as")}：<strong>{user.name}</strong>（{t(`role.${user.role}`)}）</p>
      <label>{t("language")}
        <select value={field.store.meta.lang || "zh-CN"} onChange={(e) => field.setLanguage(e.currentTarget.value)}>
          <option value="zh-CN">中文</option>
          <option value="en">English</option>
        </select>
      </label>
      {unsent > 0 && <p class="warning">{t("sign_out_pending", { n: unsent })}</p>}
      <button type="button" class="danger wide" disabled={busy} onClick={signOut}>{t("sign_out")}</button>
      <p class="meta">{t("ios_note")}</p>
      {dialog}
    </main>
  );
}
