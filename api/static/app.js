// playparse: what JavaScript adds to pages that work without it. Drag and drop on the upload
// form, the jobs table and the job page kept live from Server-Sent Events, and the job's
// buttons acting in place. Words shown to people come from the server's HTML where possible.
"use strict";

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Follow a Server-Sent Events stream with fetch, which (unlike EventSource) hears every event
// name and can send Last-Event-ID. Reconnects after a dropped connection; resolves when the
// server ends the stream (unless `reconnect` is set), has nothing more to send (204) or
// answers with an error.
async function follow(url, onEvent, { lastId = null, reconnect = false } = {}) {
  let delay = 1000;
  for (;;) {
    try {
      const headers = lastId ? { "Last-Event-ID": String(lastId) } : {};
      const response = await fetch(url, { headers, cache: "no-store" });
      if (!response.ok || response.status === 204) return;
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        delay = 1000;
        buffer += value.replace(/\r\n?/g, "\n");
        let cut;
        while ((cut = buffer.indexOf("\n\n")) >= 0) {
          const event = parseEvent(buffer.slice(0, cut));
          buffer = buffer.slice(cut + 2);
          if (event.id) lastId = event.id;
          if (event.data !== null) onEvent(event);
        }
      }
      if (!reconnect) return;
    } catch (error) {
      // The connection dropped: try again below.
    }
    await sleep(delay);
    delay = Math.min(delay * 2, 15000);
  }
}

function parseEvent(block) {
  const event = { event: "message", id: null, data: null };
  for (const line of block.split("\n")) {
    if (!line || line.startsWith(":")) continue;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
    if (field === "data") event.data = event.data === null ? value : `${event.data}\n${value}`;
    else if (field === "event") event.event = value;
    else if (field === "id") event.id = value;
  }
  return event;
}

// Run `task` at most once per `gap` ms; calls meanwhile fold into one more run.
function coalesce(task, gap) {
  let busy = false;
  let again = false;
  const run = async () => {
    if (busy) {
      again = true;
      return;
    }
    busy = true;
    try {
      await task();
    } catch (error) {
      // A failed refresh is retried by the next event.
    } finally {
      await sleep(gap);
      busy = false;
      if (again) {
        again = false;
        run();
      }
    }
  };
  return run;
}

function bytes(size) {
  for (const [unit, step] of [["GB", 2 ** 30], ["MB", 2 ** 20], ["KB", 2 ** 10]]) {
    if (size >= step) return `${(size / step).toPrecision(3).replace(/\.?0+$/, "")} ${unit}`;
  }
  return `${size} bytes`;
}

// --- the upload form: drag and drop, the chosen file, a size check before sending ------------

function enhanceUpload(form) {
  const input = form.querySelector("input[type=file]");
  const zone = form.querySelector("[data-dropzone]");
  const chosen = form.querySelector("[data-chosen]");
  const submit = form.querySelector("[data-submit]");
  const limit = Number(form.dataset.maxBytes);
  form.querySelector("[data-drop-hint]").hidden = false;

  const show = () => {
    const file = input.files[0];
    chosen.classList.remove("bad");
    input.setCustomValidity("");
    if (!file) {
      chosen.textContent = "";
      return;
    }
    if (file.size > limit) {
      const message = `${file.name} is too large (${bytes(file.size)}); the limit is ${bytes(limit)}.`;
      input.setCustomValidity(message);
      chosen.classList.add("bad");
      chosen.textContent = message;
      return;
    }
    chosen.textContent = `Chosen: ${file.name} (${bytes(file.size)})`;
  };
  input.addEventListener("change", show);
  for (const type of ["dragenter", "dragover"]) {
    zone.addEventListener(type, (event) => {
      event.preventDefault();
      zone.classList.add("dragging");
    });
  }
  for (const type of ["dragleave", "drop"]) {
    zone.addEventListener(type, () => zone.classList.remove("dragging"));
  }
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    if (event.dataTransfer.files.length) {
      input.files = event.dataTransfer.files;
      show();
    }
  });
  // A file dropped beside the zone would replace the page with the file.
  for (const type of ["dragover", "drop"]) window.addEventListener(type, (e) => e.preventDefault());

  form.addEventListener("submit", () => {
    submit.disabled = true;
    submit.textContent = "Uploading…";
  });
  // Coming back with the Back button shows the page as it was left: make it usable again.
  window.addEventListener("pageshow", () => {
    submit.disabled = false;
    submit.textContent = "Parse the play";
  });
}

// --- the jobs table ---------------------------------------------------------------------------

function liveJobsTable(table) {
  const params = new URLSearchParams();
  for (const state of table.dataset.states.split(" ").filter(Boolean)) params.append("status", state);
  if (table.dataset.q) params.set("q", table.dataset.q);
  const body = table.tBodies[0];
  const empty = document.querySelector("[data-empty]");

  const addRow = async (job) => {
    if (table.dataset.firstPage !== "true") return;
    const response = await fetch(`/jobs/${encodeURIComponent(job.id)}/row`, { cache: "no-store" });
    if (!response.ok || body.querySelector(`tr[data-job-id="${CSS.escape(job.id)}"]`)) return;
    const template = document.createElement("template");
    template.innerHTML = (await response.text()).trim();
    body.prepend(template.content.firstElementChild);
    if (empty) empty.hidden = true;
  };

  follow(
    `/api/jobs/stream?${params}`,
    ({ event, data }) => {
      if (event !== "job") return;
      const job = JSON.parse(data);
      const row = body.querySelector(`tr[data-job-id="${CSS.escape(job.id)}"]`);
      if (!row) {
        addRow(job);
        return;
      }
      const status = row.querySelector("[data-field=status]");
      status.textContent = job.status;
      status.className = `status status-${job.status}`;
      row.querySelector("progress[data-field=progress]").value = job.progress;
      row.querySelector("[data-field=progress-text]").textContent = `${job.progress}%`;
      row.querySelector("[data-field=chunks]").textContent = `${job.chunks_done}/${job.chunks_total}`;
      row.querySelector("[data-field=stage]").textContent =
        job.status === "completed" ? "—" : job.stage || "—";
    },
    { reconnect: true },
  );
}

// --- a job: live panel and events, buttons in place -------------------------------------------

function liveJob(section) {
  const jobId = section.dataset.liveJob;
  const events = document.querySelector("[data-events]");
  const timeline = events.parentElement;
  const announce = document.querySelector("[data-announce]");
  const forms = [...document.querySelectorAll("form[data-action]")];
  const nothing = document.querySelector("[data-no-actions]");
  let following = false;

  const lastEventId = () => Number(events.lastElementChild?.dataset.eventId || 0);

  const showActions = (allowed) => {
    const focused = document.activeElement;
    for (const form of forms) form.hidden = !allowed.includes(form.dataset.action);
    nothing.hidden = allowed.length > 0;
    // Keep the keyboard where it was: a hidden button cannot hold the focus.
    if (focused && focused !== document.body && focused.closest("[hidden]")) {
      const next = forms.find((form) => !form.hidden);
      (next ? next.querySelector("button") : announce).focus();
    }
  };

  let shownStatus = section.querySelector("[data-panel]").dataset.status;

  // Swap in the server's latest panel and append the events not shown yet.
  const update = async () => {
    const response = await fetch(`/jobs/${encodeURIComponent(jobId)}/live?after=${lastEventId()}`, {
      cache: "no-store",
    });
    if (!response.ok) return;
    const fresh = new DOMParser().parseFromString(await response.text(), "text/html");
    const panel = fresh.querySelector("[data-panel]");
    section.querySelector("[data-panel]").replaceWith(document.adoptNode(panel));
    const atBottom = timeline.scrollTop + timeline.clientHeight >= timeline.scrollHeight - 4;
    const known = lastEventId();
    for (const item of fresh.querySelectorAll("[data-events] > li")) {
      if (Number(item.dataset.eventId) > known) events.append(document.adoptNode(item));
    }
    if (atBottom) timeline.scrollTop = timeline.scrollHeight;
    showActions(panel.dataset.allowed.split(" ").filter(Boolean));
    if (panel.dataset.status !== shownStatus) {
      shownStatus = panel.dataset.status;
      announce.textContent = `The job is now ${shownStatus}.`;
    }
    section.dataset.final = String(["completed", "failed", "cancelled"].includes(shownStatus));
  };
  const refresh = coalesce(update, 250);

  const followEvents = async () => {
    if (following) return;
    following = true;
    try {
      await follow(`/api/jobs/${encodeURIComponent(jobId)}/stream`, refresh, { lastId: lastEventId() });
    } finally {
      following = false;
    }
    refresh();
  };

  for (const form of forms) {
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const action = form.dataset.action;
      const button = form.querySelector("button");
      const before = shownStatus;
      let ok = false;
      let said;
      button.disabled = true;
      try {
        const response = await fetch(`/api/jobs/${encodeURIComponent(jobId)}/${action}`, {
          method: "POST",
          headers: { Accept: "application/json" },
        });
        const body = await response.json().catch(() => ({}));
        ok = response.ok;
        said = ok
          ? form.dataset.done
          : `Could not ${action} the job: ${(body.detail || response.statusText).replace(/\.$/, "")}.`;
      } catch (error) {
        said = "The service could not be reached; please try again.";
      } finally {
        button.disabled = false;
      }
      await update().catch(() => {});
      // Once the state has already moved on, "The job is now …" says more than "requested".
      if (!ok || shownStatus === before) announce.textContent = said;
      if (action === "retry") followEvents();
    });
  }
  if (section.dataset.final !== "true") followEvents();
}

document.addEventListener("DOMContentLoaded", () => {
  const upload = document.getElementById("upload");
  if (upload) enhanceUpload(upload);
  const table = document.querySelector("[data-live-list]");
  if (table) liveJobsTable(table);
  const job = document.querySelector("[data-live-job]");
  if (job) liveJob(job);
});
