// Mesa's small progressive enhancements. Everything works without this file.
document.documentElement.classList.add("js");

document.addEventListener("change", (event) => {
  const select = event.target.closest("select[data-autosubmit]");
  if (select && select.form) select.form.requestSubmit();
});

// ---- The header's menu (issue 19): a <details> that works alone; this only makes it nicer ----
// On a wide screen the CSS shows the menu's content without opening it; a browser without ::details-content needs
// it open. On a phone Escape or a click elsewhere closes it, as people expect of a menu.
const navMenu = document.getElementById("nav-menu");
if (navMenu) {
  const wide = window.matchMedia("(min-width: 1024px)");
  const followWidth = () => { navMenu.open = wide.matches; };
  followWidth();
  wide.addEventListener("change", followWidth);
  document.addEventListener("keydown", (event) => {
    if (event.key !== "Escape" || !navMenu.open || wide.matches) return;
    navMenu.open = false;
    navMenu.querySelector("summary").focus();
  });
  document.addEventListener("click", (event) => {
    if (navMenu.open && !wide.matches && !navMenu.contains(event.target)) navMenu.open = false;
  });
}

// ---- Agent desk (issue 5) ----
// A refused update (403 not allowed, 409 someone else changed it, 422 invalid) still shows its answer: the
// fragment says why, carries the other change and keeps what the agent typed.
document.addEventListener("htmx:beforeSwap", (event) => {
  const status = event.detail.xhr && event.detail.xhr.status;
  if ((status === 403 || status === 409 || status === 422) && event.detail.target && event.detail.target.closest("[data-swap-errors], #bulk-result")) {
    event.detail.shouldSwap = true;
    event.detail.isError = false;
  }
  // The login ended before this was sent: the server answers with the login page carrying what was typed
  // (HX-Retarget: body). It replaces the page only when the person submitted a form; a background request (the
  // presence poll, the typing ping) must not swap the page away from under someone typing: their next submit
  // carries the whole text.
  if (status === 401 && event.detail.xhr.getResponseHeader("HX-Retarget") === "body") {
    const config = event.detail.requestConfig;
    const submitted = config && config.triggeringEvent && config.triggeringEvent.type === "submit";
    event.detail.shouldSwap = Boolean(submitted);
    event.detail.isError = false;
  }
});

// The server says the ticket's new version after each change: every form on the page follows it.
document.addEventListener("ticketVersion", (event) => {
  const value = event.detail && event.detail.value;
  if (value === undefined) return;
  document.querySelectorAll("input[data-sync-version]").forEach((input) => { input.value = value; });
});

// Ctrl+Enter (or Cmd+Enter) sends the composer.
document.addEventListener("keydown", (event) => {
  const area = event.target.closest && event.target.closest("textarea[data-ctrl-enter]");
  if (area && event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
    event.preventDefault();
    const send = area.form && area.form.querySelector('button[name="action"][value="send"]');
    if (send) send.click();
  }
});

// The queue's "select all" box ticks or clears every row on the page.
document.addEventListener("change", (event) => {
  const all = event.target.closest && event.target.closest("input[data-select-all]");
  if (!all) return;
  const table = all.closest("table");
  if (table) table.querySelectorAll('tbody input[type="checkbox"][name="refs"]').forEach((box) => { box.checked = all.checked; });
});

// Queue keys: j / k move between rows, x selects, Enter opens (not while typing in a field).
document.addEventListener("keydown", (event) => {
  if (event.ctrlKey || event.metaKey || event.altKey) return;
  const tag = (event.target.tagName || "").toLowerCase();
  if (tag === "input" || tag === "textarea" || tag === "select") return;
  const rows = Array.from(document.querySelectorAll("tr.queue-row"));
  if (!rows.length) return;
  const current = document.querySelector("tr.queue-row.focused");
  let index = rows.indexOf(current);
  if (event.key === "j" || event.key === "k") {
    index = event.key === "j" ? Math.min(rows.length - 1, index + 1) : Math.max(0, index - 1);
    if (current) current.classList.remove("focused");
    rows[index].classList.add("focused");
    const link = rows[index].querySelector("a.row-link");
    if (link) link.focus();
  } else if (event.key === "x" && current) {
    const box = current.querySelector('input[type="checkbox"]');
    if (box) box.checked = !box.checked;
  }
});

// ---- The front doors' search (issue 19): the arrow keys go from the box to the live results and back ----
// The results are ordinary links (Tab reaches them too); Down from the box opens the first, Up and Down move
// between them, Escape or Up from the first goes back to the box.
document.addEventListener("keydown", (event) => {
  const box = document.querySelector("input[data-live-search]");
  if (!box || !["ArrowDown", "ArrowUp", "Escape"].includes(event.key)) return;
  const links = Array.from(document.querySelectorAll("#kb-results .kb-hit-title"));
  if (event.target === box) {
    if (event.key === "ArrowDown" && links.length) { event.preventDefault(); links[0].focus(); }
    return;
  }
  const index = links.indexOf(event.target);
  if (index < 0) return;
  event.preventDefault();
  if (event.key === "ArrowDown") links[Math.min(links.length - 1, index + 1)].focus();
  else if (event.key === "ArrowUp" && index > 0) links[index - 1].focus();
  else box.focus();
});
