// Opens the phone's store, shows the app, and syncs when there is a network.
import { render } from "preact";
import { Field } from "./field.js";
import { t } from "./i18n.js";
import { App } from "./ui/app.jsx";
import "./app.css";

const root = document.getElementById("app");

function show(field, updated = false) {
  root.querySelector(".boot")?.remove();
  render(<App field={field} updated={updated} />, root);
}

async function boot() {
  let field;
  try {
    field = await Field.open();
  } catch (error) {
    root.textContent = t("boot_failed", { why: String((error && error.message) || error) });
    return;
  }
  window.mingcha = field; // for the browser tests and for support on a phone
  await field.recover().catch(() => {});
  show(field);
  field.position.start();
  if ("serviceWorker" in navigator) {
    const hadController = Boolean(navigator.serviceWorker.controller);
    navigator.serviceWorker.register("/field/sw.js", { scope: "/field/" }).catch(() => {});
    navigator.serviceWorker.addEventListener("controllerchange", () => {
      if (hadController) show(field, true); // a new build took over: offer to reopen
    });
  }
  await field.revokeLeftover();
  await field.sync.run();
  if (field.waiting()) field.syncSoon();
}

boot();
