// A finding of the check: category, severity, what was seen, the unit, its evidence.
import { useState } from "preact/hooks";
import { t } from "../i18n.js";
import { short } from "../time.js";
import { Thumb } from "./common.jsx";
import { evidenceOf } from "./check.jsx";
import { go } from "./hooks.js";

export function FindingForm({ field, checkId, findingId }) {
  const store = field.store;
  const check = store.get("check", checkId);
  const finding = findingId === "new" ? null : store.get("finding", findingId);
  const site = check ? store.get("site", check.site_id) : null;
  const categories = store.all("category").sort((a, b) => String(a.code).localeCompare(String(b.code)));
  const units = store.all("unit").sort((a, b) => String(a.code).localeCompare(String(b.code)));
  const items = check ? evidenceOf(store, check.id) : [];
  const [category, setCategory] = useState(finding ? finding.category_id : "");
  const [severity, setSeverity] = useState(finding ? finding.severity || "general" : "");
  const [description, setDescription] = useState(finding ? finding.description || "" : "");
  const [unit, setUnit] = useState(finding ? finding.unit_id || "" : (site && site.unit_id) || "");
  const [chosen, setChosen] = useState(new Set(items.filter((e) => finding && e.finding_id === finding.id).map((e) => e.id)));
  const [error, setError] = useState(null);
  const locked = finding && finding.state && finding.state !== "pending";
  if (!check) return <main class="screen"><p class="empty">{t("no_checks")}</p></main>;

  const pickCategory = (id) => {
    setCategory(id);
    const c = categories.find((x) => x.id === id);
    if (c && !severity) setSeverity(c.default_severity || "general");
  };

  async function save(event) {
    event.preventDefault();
    if (!category) return setError(t("required", { field: t("category") }));
    if (!description.trim()) return setError(t("required", { field: t("description") }));
    const values = { category_id: category, severity: severity || "general",
      description: description.trim() };
    if (unit) values.unit_id = unit;
    await field.saveFinding(check, finding, values, [...chosen]);
    go(`check/${check.id}`);
    return null;
  }

  return (
    <main class="screen finding">
      <h1>{t("finding_title")} · {site ? site.name : ""}</h1>
      <form onSubmit={save}>
        <fieldset disabled={locked}>
          <label>{t("category")}
            <select name="category" value={category} onChange={(e) => pickCategory(e.currentTarget.value)} required>
              <option value="">{t("choose")}</option>
              {categories.map((c) => <option value={c.id} key={c.id}>{c.name_zh}{c.name_en ? ` / ${c.name_en}` : ""}</option>)}
            </select>
          </label>
          <fieldset class="modes">
            <legend>{t("severity")}</legend>
            {["general", "major"].map((s) => (
              <label class={`choice ${s}`} key={s}>
                <input type="radio" name="severity" value={s} checked={(severity || "general") === s}
                  onChange={() => setSeverity(s)} />
                {t(`severity.${s}`)}
              </label>
            ))}
          </fieldset>
          <label>{t("description")}
            <textarea name="description" rows="4" value={description} placeholder={t("description_placeholder")}
              onInput={(e) => setDescription(e.currentTarget.value)} />
          </label>
          <label>{t("unit")}
            <select name="unit" value={unit} onChange={(e) => setUnit(e.currentTarget.value)}>
              {units.map((u) => <option value={u.id} key={u.id}>{u.name}</option>)}
            </select>
          </label>
        </fieldset>
        <fieldset class="attach">
          <legend>{t("attach")}</legend>
          {items.length === 0 && <p class="empty">{t("no_evidence")}</p>}
          {items.map((e) => (
            <label class="pick" key={e.id}>
              <input type="checkbox" name="evidence" value={e.id} checked={chosen.has(e.id)}
                onChange={(event) => {
                  const next = new Set(chosen);
                  if (event.currentTarget.checked) next.add(e.id);
                  else next.delete(e.id);
                  setChosen(next);
                }} />
              <Thumb thumb={store.files.get(e.id)?.thumb} kind={e.kind} id={e.id} ready={e.state === "ready"} />
              <span>{t(`kind.${e.kind}`)} · {short(e.captured_at)}</span>
            </label>
          ))}
        </fieldset>
        {error && <p class="error" role="alert">{error}</p>}
        <div class="row sticky">
          <a class="button secondary" href={`#/check/${check.id}`}>{t("back")}</a>
          <button type="submit" class="primary">{t("save")}</button>
        </div>
      </form>
    </main>
  );
}
