import { useState } from "preact/hooks";
import { OwnerError, RoleError } from "../field.js";
import { describe, t } from "../i18n.js";

function guessDevice() {
  const ua = navigator.userAgent;
  if (/iPhone/.test(ua)) return "iPhone";
  if (/iPad/.test(ua)) return "iPad";
  const android = ua.match(/Android[^;]*;\s*([^;)]+?)(?:\sBuild|\))/);
  if (android) return android[1].trim();
  return /Mobile/.test(ua) ? "手机" : "浏览器";
}

export function Login({ field }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const [device, setDevice] = useState(guessDevice());
  const expired = field.store.meta.expired;

  async function submit(event) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    setBusy(true);
    setError(null);
    try {
      await field.signIn(String(form.get("username")).trim(), String(form.get("password")),
        device.trim() || guessDevice());
    } catch (e) {
      setError(words(e));
    } finally {
      setBusy(false);
    }
  }

  return (
    <main class="screen login">
      <h1>{t("app")}</h1>
      <p class="lead">{t("signin_lead")}</p>
      {expired && <p class="warning" role="status">{t("expired")}</p>}
      <form onSubmit={submit}>
        <label>{t("username")}
          <input name="username" autocomplete="username" autocapitalize="none" required />
        </label>
        <label>{t("password")}
          <input name="password" type="password" autocomplete="current-password" required />
        </label>
        <label>{t("device_name")}
          <input name="device" value={device} onInput={(e) => setDevice(e.currentTarget.value)} />
        </label>
        {error && <p class="error" role="alert">{error}</p>}
        <button class="primary wide" type="submit" disabled={busy}>
          {busy ? t("signing_in") : t("signin")}
        </button>
      </form>
    </main>
  );
}

function words(error) {
  if (error instanceof RoleError) {
    return (
      <span>{t("not_field_role", { role: t(`role.${error.role}`) })} <a href="/">{t("open_desk")}</a></span>
    );
  }
  if (error instanceof OwnerError) return t("owner_pending", { name: error.owner });
  if (error.status === 401) return t("wrong_password");
  if (error.status === 429) return t("locked", { seconds: error.retryAfter || 60 });
  if (error.status == null && error.problem) return t("first_signin_offline");
  return describe(error);
}
