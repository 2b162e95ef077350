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
  // An expired form (400, views/errors.py) comes back the same way, with what was typed and a fresh token.
  if ((status === 401 || status === 400) && event.detail.xhr.getResponseHeader("HX-Retarget") === "body") {
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


// ---- Feedback and nothing lost (issue 19): progress and one click ----
// While a form's request runs, the form says so (aria-busy, a spinner in the pressed button) and its
// buttons are disabled: a second click sends nothing twice. Background requests (polls, typing pings, live
// suggestions) are not triggered by a submit or a click and leave the form alone.
const BUSY_BUTTONS = 'button:not([disabled]), input[type="submit"]:not([disabled])';

function markBusy(form, submitter) {
  form.setAttribute("aria-busy", "true");
  if (submitter) submitter.setAttribute("aria-busy", "true");  // Pico draws its spinner in the pressed button
  form.querySelectorAll(BUSY_BUTTONS).forEach((button) => {
    button.disabled = true;
    button.setAttribute("data-busy-disabled", "");
  });
}

function clearBusy(form) {
  if (!form) return;
  form.removeAttribute("aria-busy");
  form.querySelectorAll("[data-busy-disabled]").forEach((button) => {
    button.disabled = false;
    button.removeAttribute("data-busy-disabled");
  });
  form.querySelectorAll('[aria-busy="true"]').forEach((button) => button.removeAttribute("aria-busy"));
}

function userAction(detail) {
  const trigger = detail.requestConfig && detail.requestConfig.triggeringEvent;
  return Boolean(trigger) && (trigger.type === "submit" || trigger.type === "click");
}

document.addEventListener("htmx:beforeRequest", (event) => {
  if (!userAction(event.detail)) return;
  const form = event.detail.elt.closest("form") || event.detail.elt;
  if (form.getAttribute("aria-busy") === "true") {
    event.preventDefault();  // the first click's request is still running
    return;
  }
  const trigger = event.detail.requestConfig.triggeringEvent;
  markBusy(form, trigger.submitter || (trigger.target && trigger.target.closest && trigger.target.closest("button")));
});

["htmx:afterRequest", "htmx:sendError", "htmx:timeout"].forEach((name) => {
  document.addEventListener(name, (event) => {
    const elt = event.detail.elt;
    if (elt && elt.closest) clearBusy(elt.closest("form") || elt);
  });
});

// A plain form (no htmx) is sent once: a second submit while the page loads the answer is dropped. The buttons
// are disabled after the browser has read the one that was pressed (its name and value are part of the post).
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (event.defaultPrevented || (form.method || "").toLowerCase() !== "post" || form.target === "_blank") return;
  if (form.getAttribute("aria-busy") === "true") {
    event.preventDefault();
    return;
  }
  setTimeout(() => markBusy(form, event.submitter), 0);
  setTimeout(() => clearBusy(form), 20000);  // a download or a stopped page must not leave the form dead
});

// Back to a page kept in the browser's memory: its forms may be sent again.
window.addEventListener("pageshow", (event) => {
  if (event.persisted) document.querySelectorAll('form[aria-busy="true"]').forEach(clearBusy);
});

// ---- Feedback and nothing lost (issue 19): every failure is shown ----
// An htmx answer that is not swapped in (a 4xx or 5xx) or that never came (network down) is said in a box with
// role="alert" just before the form, in words from the server's error fragment (errors/_error.html) or, failing
// that, the generic words base.html gives (<meta name="mesa-messages">). Nothing fails only in the console.
function pageMessage(name) {
  const meta = document.querySelector('meta[name="mesa-messages"]');
  return (meta && meta.getAttribute("data-" + name)) || "";
}

function serverMessage(xhr) {
  const type = (xhr && xhr.getResponseHeader("Content-Type")) || "";
  if (!type.includes("html") || !xhr.responseText) return "";
  const doc = new DOMParser().parseFromString(xhr.responseText, "text/html");
  const box = doc.querySelector("#error-message p, .flash-error, .field-error, [role=alert]");
  return box ? box.textContent.trim() : "";
}

function showProblem(elt, text) {
  const anchor = (elt && elt.isConnected && (elt.closest("form") || elt)) || document.querySelector("main") || document.body;
  const holder = anchor === document.querySelector("main") ? null : anchor;
  let box = holder ? holder.previousElementSibling : null;
  if (!box || !box.classList.contains("request-problem")) {
    box = document.createElement("p");
    box.className = "flash flash-error request-problem";
    box.setAttribute("role", "alert");
    if (holder) holder.before(box); else anchor.prepend(box);
  }
  box.textContent = text;
}

document.addEventListener("htmx:responseError", (event) => {
  const xhr = event.detail.xhr;
  showProblem(event.detail.elt, serverMessage(xhr) || pageMessage("failed").replace("%(status)s", String(xhr && xhr.status)));
});
document.addEventListener("htmx:sendError", (event) => {
  showProblem(event.detail.elt, pageMessage("offline"));
});
document.addEventListener("htmx:timeout", (event) => {
  showProblem(event.detail.elt, pageMessage("offline"));
});
// A request of the same form that went through takes the old complaint away.
document.addEventListener("htmx:afterRequest", (event) => {
  if (!event.detail.successful || !event.detail.elt || !event.detail.elt.isConnected) return;
  const form = event.detail.elt.closest("form") || event.detail.elt;
  const box = form.previousElementSibling;
  if (box && box.classList.contains("request-problem")) box.remove();
});

// ---- Feedback and nothing lost (issue 19): files too large are refused before the upload ----
// The limits come from base.html (<meta name="mesa-messages" data-file-bytes data-request-bytes>): a file over the
// attachment limit, or files over the request limit together, are taken off the field with a message, so the
// form is never sent only to be refused after a long upload.
function tooLargeMessage(input) {
  const meta = document.querySelector('meta[name="mesa-messages"]');
  if (!meta) return "";
  const fileBytes = Number(meta.getAttribute("data-file-bytes")) || Infinity;
  const requestBytes = Number(meta.getAttribute("data-request-bytes")) || Infinity;
  const files = Array.from(input.files || []);
  const big = files.find((file) => file.size > fileBytes);
  if (big) return pageMessage("file-too-large").replace("%(name)s", big.name);
  const total = files.reduce((sum, file) => sum + file.size, 0);
  return total > requestBytes ? pageMessage("files-too-large") : "";
}

function checkFiles(input) {
  const message = tooLargeMessage(input);
  let note = input.nextElementSibling && input.nextElementSibling.classList.contains("file-too-large") ? input.nextElementSibling : null;
  if (!message) {
    if (note) note.remove();
    return true;
  }
  input.value = "";
  if (!note) {
    note = document.createElement("small");
    note.className = "field-error file-too-large";
    note.setAttribute("role", "alert");
    input.after(note);
  }
  note.textContent = message;
  return false;
}

document.addEventListener("change", (event) => {
  if (event.target.matches && event.target.matches('input[type="file"]')) checkFiles(event.target);
});
document.addEventListener("submit", (event) => {
  const inputs = Array.from(event.target.querySelectorAll('input[type="file"]'));
  if (!inputs.every(checkFiles)) {
    event.preventDefault();
    event.stopImmediatePropagation();
  }
}, true);

// ---- Feedback and nothing lost (issue 19): drafts ----
// A form marked data-draft="<key>" (replies, notes, new tickets) keeps what is typed in this browser's storage
// until it is sent: a reload, a too-large upload or an error page loses nothing. A sent draft is dropped when
// the next page loads (the server either took it or gave it back in the form); an error page keeps it for the
// way back. Logging out forgets every draft (the key also carries the person's id).
const DRAFT = "mesa-draft:";

function draftFields(form) {
  return Array.from(form.elements).filter((el) => el.name && !/csrf|token|password|version/i.test(el.name)
    && (el.tagName === "TEXTAREA" || (el.tagName === "INPUT" && (el.type === "text" || el.type === "search") && !el.closest(".composer-tools"))));
}

function readDraft(key) {
  try { return JSON.parse(localStorage.getItem(DRAFT + key) || "null"); } catch (error) { return null; }
}

function saveDraft(form, state) {
  const values = {};
  draftFields(form).forEach((el) => { if (el.value.trim()) values[el.name] = el.value; });
  try {
    if (Object.keys(values).length) localStorage.setItem(DRAFT + form.dataset.draft, JSON.stringify({ state, values }));
    else localStorage.removeItem(DRAFT + form.dataset.draft);
  } catch (error) { /* storage full or refused: the form still works */ }
}

function setDraftState(key, state) {
  const draft = readDraft(key);
  if (draft) localStorage.setItem(DRAFT + key, JSON.stringify({ ...draft, state }));
}

function restoreDrafts(root) {
  root.querySelectorAll("form[data-draft]").forEach((form) => {
    // Its request is still running (a poll swapped something beside it): the answer decides, not this.
    if (form.getAttribute("aria-busy") === "true") return;
    const draft = readDraft(form.dataset.draft);
    if (draft && draft.state !== "sent") {
      let restored = false;
      draftFields(form).forEach((el) => {
        if (!el.value.trim() && draft.values[el.name]) { el.value = draft.values[el.name]; restored = true; }
      });
      if (restored && !form.querySelector(".draft-restored")) {
        const note = document.createElement("p");
        note.className = "muted draft-restored";
        note.setAttribute("role", "status");
        note.textContent = pageMessage("draft-restored");
        form.prepend(note);
      }
    }
    saveDraft(form, "typing");
  });
}

document.addEventListener("input", (event) => {
  const form = event.target.form || (event.target.closest && event.target.closest("form"));
  if (form && form.dataset.draft) saveDraft(form, "typing");
});
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (form.dataset.draft) saveDraft(form, "sent");
  if (/\/logout$/.test(form.getAttribute("action") || "")) {
    Object.keys(localStorage).filter((key) => key.startsWith(DRAFT)).forEach((key) => localStorage.removeItem(key));
  }
});
// htmx: a request that failed keeps the draft; a swap that went through saves what the new form holds (empty
// after a send, so the draft goes; the text itself after a preview).
["htmx:responseError", "htmx:sendError", "htmx:timeout"].forEach((name) => {
  document.addEventListener(name, (event) => {
    const form = event.detail.elt && event.detail.elt.closest && event.detail.elt.closest("form[data-draft]");
    if (form) setDraftState(form.dataset.draft, "kept");
  });
});
document.addEventListener("htmx:load", (event) => restoreDrafts(event.detail.elt.parentElement || document));
document.addEventListener("DOMContentLoaded", () => {
  // An error page (a too-large upload, an expired page): the text that was sent is kept for the way back.
  if (document.querySelector(".error-page")) {
    Object.keys(localStorage).filter((key) => key.startsWith(DRAFT)).forEach((key) => {
      if ((readDraft(key.slice(DRAFT.length)) || {}).state === "sent") setDraftState(key.slice(DRAFT.length), "kept");
    });
  }
  restoreDrafts(document);
});

// ---- Feedback and nothing lost (issue 19): "This answered my question" carries the ticket being written ----
// so that "I still need help" on the next page gives the form back as it was (views.tickets.deflect).
document.addEventListener("submit", (event) => {
  const form = event.target.closest(".deflect-form");
  if (!form) return;
  ["subject", "description"].forEach((name) => {
    const typed = document.getElementById(name);
    const hidden = form.querySelector(`input[name="${name}"]`);
    if (typed && hidden) hidden.value = typed.value;
  });
}, true);
