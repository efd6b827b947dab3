// The app's frame: the screen for the URL's #fragment, and the bar a thumb reaches.
import { language, setLanguage, t } from "../i18n.js";
import { CheckScreen } from "./check.jsx";
import { FindingForm } from "./finding.jsx";
import { Home, Start } from "./home.jsx";
import { useHashRoute, useSubscribe } from "./hooks.js";
import { Login } from "./login.jsx";
import { Settings } from "./settings.jsx";
import { pending, SyncPanel } from "./sync.jsx";

function Screen({ field, route }) {
  const [first, id, sub, subId] = route;
  if (first === "check" && sub === "finding") return <FindingForm field={field} checkId={id} findingId={subId} />;
  if (first === "check") return <CheckScreen field={field} checkId={id} />;
  if (first === "start") return <Start field={field} siteId={id} planId={sub} />;
  if (first === "sync") return <SyncPanel field={field} />;
  if (first === "settings") return <Settings field={field} />;
  return <Home field={field} />;
}

function Nav({ field, route }) {
  const waiting = pending(field);
  const count = waiting.records + waiting.files;
  const here = route[0] || "";
  const item = (path, label, extra) => (
    <a href={`#/${path}`} class={here === path || (path === "" && ["check", "start"].includes(here)) ? "here" : ""}
      aria-current={here === path ? "page" : undefined}>{label}{extra}</a>
  );
  // Offline is not a fault: the count of what waits is enough. Other failures get a mark.
  const failed = field.sync.error && !field.sync.error.offline;
  const badge = count ? <span class={`count ${failed ? "bad" : ""}`} data-testid="sync-count">{count}</span>
    : failed ? <span class="count bad">!</span> : null;
  return (
    <nav class="bar">
      {item("", t("nav_home"))}
      {item("sync", t("nav_sync"), badge)}
      {item("settings", t("nav_settings"))}
    </nav>
  );
}

export function App({ field, updated }) {
  useSubscribe(field.store, field.sync, field.uploads, field.position);
  const route = useHashRoute();
  setLanguage(field.store.meta.lang || "zh-CN");
  document.documentElement.lang = language();
  if (!field.store.meta.token) return <Login field={field} />;
  return (
    <div class="frame">
      <header class="top">
        <a href="#/" class="brand">{t("app")}</a>
        <span class="who">{field.user.name}</span>
      </header>
      {updated && <button type="button" class="update" onClick={() => window.location.reload()}>{t("update_ready")}</button>}
      <Screen field={field} route={route} />
      <Nav field={field} route={route} />
    </div>
  );
}
