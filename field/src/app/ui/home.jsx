// The first screen: checks under way, my plans, the sites nearest first, recent checks.
import { useMemo, useState } from "preact/hooks";
import { byDistance, formatDistance } from "../geo.js";
import { t } from "../i18n.js";
import { short } from "../time.js";
import { Badge, ModeBadge, useConfirm } from "./common.jsx";
import { go } from "./hooks.js";

export function mine(field, check) {
  return !check.created_by || check.created_by === field.user.id;
}

/** Plans assigned to me whose window has not ended. */
export function myPlans(field, now = new Date()) {
  return field.store.all("plan")
    .filter((p) => (p.assignee_ids || []).includes(field.user.id))
    .filter((p) => !p.window_end || new Date(p.window_end) >= now)
    .sort((a, b) => String(a.window_start).localeCompare(String(b.window_start)));
}

export function GpsLine({ position }) {
  if (position.fix) return <span class="gps ok">{t("gps_fix", { m: Math.round(position.fix.accuracy_m) })}</span>;
  if (position.problem === "denied") return <span class="gps bad">{t("gps_denied")}</span>;
  if (position.problem) return <span class="gps bad">{t("gps_none")}</span>;
  return <span class="gps">{t("gps_wait")}</span>;
}

export function Home({ field }) {
  const store = field.store;
  const [query, setQuery] = useState("");
  const units = new Map(store.all("unit").map((u) => [u.id, u]));
  const sites = new Map(store.all("site").map((s) => [s.id, s]));
  const checks = store.all("check").filter((c) => mine(field, c))
    .sort((a, b) => String(b.started_at).localeCompare(String(a.started_at)));
  const open = checks.filter((c) => !c.ended_at);
  const recent = checks.filter((c) => c.ended_at).slice(0, 20);
  const plans = myPlans(field);
  const needsInfo = new Map();
  for (const e of store.all("evidence")) {
    if (e.review_state === "needs_info") needsInfo.set(e.check_id, (needsInfo.get(e.check_id) || 0) + 1);
  }
  const fix = field.position.fix;
  // Re-sorted when the phone has moved by more than ~50 m, not on every fix.
  const rounded = fix ? `${fix.lat.toFixed(3)},${fix.lon.toFixed(3)}` : "";
  const sorted = useMemo(() => byDistance([...sites.values()], fix), [store.records, rounded]);
  const needle = query.trim().toLowerCase();
  const shown = sorted.filter(({ site }) => !needle || [site.name, site.address, site.code,
    units.get(site.unit_id)?.name].some((v) => v && v.toLowerCase().includes(needle)));

  return (
    <main class="screen home">
      {open.length > 0 && (
        <section>
          <h2>{t("in_progress")}</h2>
          {open.map((c) => (
            <a class="card" href={`#/check/${c.id}`} key={c.id}>
              <strong>{sites.get(c.site_id)?.name || "—"}</strong> <ModeBadge mode={c.mode} />
              <span class="meta">{t("started", { time: short(c.started_at) })}</span>
            </a>
          ))}
        </section>
      )}
      <section>
        <h2>{t("my_plans")}</h2>
        {plans.length === 0 && <p class="empty">{t("no_plans")}</p>}
        {plans.map((p) => (
          <div class="card plan" key={p.id}>
            <div><strong>{p.title}</strong> <ModeBadge mode={p.mode} /></div>
            <span class="meta">{t("window", { start: short(p.window_start), end: short(p.window_end) })}</span>
            <ul class="plan-sites">
              {(p.site_ids || []).map((id) => sites.get(id)).filter(Boolean).map((s) => (
                <li key={s.id}><a class="button small" href={`#/start/${s.id}/${p.id}`}>{s.name}</a></li>
              ))}
            </ul>
          </div>
        ))}
      </section>
      <section>
        <h2>{fix ? t("sites") : t("sites_unplaced")}</h2>
        <p class="meta"><GpsLine position={field.position} /></p>
        <input class="search" type="search" placeholder={t("search_sites")} value={query}
          onInput={(e) => setQuery(e.currentTarget.value)} aria-label={t("search_sites")} />
        {shown.length === 0 && <p class="empty">{t("no_sites")}</p>}
        <ul class="sites">
          {shown.slice(0, 60).map(({ site, distance }) => (
            <li key={site.id}>
              <button type="button" class="site" onClick={() => go(`start/${site.id}`)}>
                <span class="name">{site.name}</span>
                <span class="meta">{units.get(site.unit_id)?.name || ""}</span>
                {distance != null && <span class="distance">{formatDistance(distance)}</span>}
              </button>
            </li>
          ))}
        </ul>
      </section>
      <section>
        <h2>{t("recent")}</h2>
        {recent.length === 0 && <p class="empty">{t("no_checks")}</p>}
        {recent.map((c) => {
          const asked = needsInfo.get(c.id) || 0;
          return (
            <a class="card" href={`#/check/${c.id}`} key={c.id}>
              <strong>{sites.get(c.site_id)?.name || "—"}</strong> <ModeBadge mode={c.mode} />
              {c.pending && <Badge kind="pending">{t("file.queued")}</Badge>}
              {asked > 0 && <Badge kind="attention">{t("review.needs_info")} {asked}</Badge>}
              <span class="meta">{short(c.started_at)}</span>
            </a>
          );
        })}
      </section>
    </main>
  );
}

export function Start({ field, siteId, planId }) {
  const store = field.store;
  const site = store.get("site", siteId);
  const now = new Date();
  const plans = myPlans(field, now).filter((p) => (p.site_ids || []).includes(siteId));
  const [planChoice, setPlan] = useState(planId || (plans[0] ? plans[0].id : ""));
  const plan = plans.find((p) => p.id === planChoice) || null;
  const [freeMode, setMode] = useState("open");
  const mode = plan ? plan.mode : freeMode;
  const [ask, dialog] = useConfirm();
  const [busy, setBusy] = useState(false);
  if (!site) return <main class="screen"><p class="empty">{t("no_sites")}</p></main>;

  async function begin() {
    setBusy(true);
    const id = await field.startCheck({ site, mode, plan });
    go(`check/${id}`);
  }

  return (
    <main class="screen start">
      <h1>{t("start_title")}</h1>
      <p class="site-name">{site.name}</p>
      <p class="meta">{site.address}</p>
      <label>{t("plan")}
        <select value={planChoice} onChange={(e) => setPlan(e.currentTarget.value)}>
          <option value="">{t("no_plan")}</option>
          {plans.map((p) => <option value={p.id} key={p.id}>{p.title}（{t(`mode.${p.mode}`)}）</option>)}
        </select>
      </label>
      <fieldset class="modes" disabled={Boolean(plan)}>
        <legend>{t("mode")}</legend>
        {["open", "covert"].map((m) => (
          <label class={`choice ${m}`} key={m}>
            <input type="radio" name="mode" value={m} checked={mode === m}
              onChange={() => setMode(m)} />
            {t(`mode.${m}`)}
          </label>
        ))}
      </fieldset>
      {mode === "covert" && <p class="warning">{t("covert_warning")}</p>}
      <div class="actions">
        <button type="button" class="primary wide" disabled={busy}
          onClick={async () => {
            if (mode === "covert" && !(await ask({ text: t("covert_confirm"),
              detail: t("covert_warning"), danger: true }))) return;
            begin();
          }}>
          {t("start")}（{t(`mode.${mode}`)}）
        </button>
      </div>
      {dialog}
    </main>
  );
}
