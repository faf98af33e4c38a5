// ringq dashboard: the few behaviours plain HTML forms lack. Everything works without it.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  // Ask before destructive actions (buttons carrying data-confirm).
  document.querySelectorAll("button[data-confirm]").forEach((button) => {
    button.addEventListener("click", (event) => {
      if (!window.confirm(button.dataset.confirm)) event.preventDefault();
    });
  });
  // DLQ: the header checkbox selects every row.
  const all = document.getElementById("select-all");
  if (all) {
    all.addEventListener("change", () => {
      document.querySelectorAll("input[name=job_id]").forEach((box) => { box.checked = all.checked; });
    });
  }
  // Filters submit when changed.
  document.querySelectorAll("select.autosubmit").forEach((select) => {
    select.addEventListener("change", () => select.form.submit());
  });
  // Overview: optional auto-refresh, remembered in localStorage.
  const refresh = document.getElementById("autorefresh");
  if (refresh) {
    const key = "ringq-dashboard-autorefresh";
    refresh.checked = window.localStorage.getItem(key) === "1";
    let timer = null;
    const arm = () => {
      if (timer) window.clearTimeout(timer);
      timer = refresh.checked ? window.setTimeout(() => window.location.reload(), 1000 * Number(refresh.dataset.seconds)) : null;
    };
    refresh.addEventListener("change", () => {
      window.localStorage.setItem(key, refresh.checked ? "1" : "0");
      arm();
    });
    arm();
  }
});
