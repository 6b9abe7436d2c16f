// ShelfReady seller page: plain ES module, no framework, no build step, no outside requests.
const $ = (sel, root = document) => root.querySelector(sel);
const KEY_STORE = "shelfready.apiKey";
const POLL_MS = 1500;
const IMAGE_TYPES = /\.(jpe?g|png|webp|gif|tiff?|bmp)$/i;
const TERMINAL = new Set(["COMPLETED", "FAILED", "CANCELLED"]);

const state = { offset: 0, limit: 20, openId: null, open: null, review: null,
  selected: new Set(), pendingImages: new Map(), files: [], blobs: new Map() };

// ---------- API -------------------------------------------------------------------------------
function headers(extra = {}) {
  const key = localStorage.getItem(KEY_STORE);
  return key ? { ...extra, Authorization: `Bearer ${key}` } : extra;
}

async function api(path, { method = "GET", json, form } = {}) {
  const init = { method, headers: headers(json ? { "Content-Type": "application/json" } : {}) };
  if (json) init.body = JSON.stringify(json);
  if (form) init.body = form;
  const response = await fetch(path, init);
  if (!response.ok) {
    let detail = `${response.status} ${response.statusText}`;
    try {
      const body = await response.json();
      detail = typeof body.detail === "string" ? body.detail
        : (body.detail || []).map((e) => `${(e.loc || []).slice(1).join(".")}: ${e.msg}`).join("; ");
    } catch { /* not JSON */ }
    const error = new Error(detail);
    error.status = response.status;
    throw error;
  }
  return response;
}
const getJson = async (path, opts) => (await api(path, opts)).json();

// Images need the key too, so they are fetched and shown as blob URLs.
async function imageUrl(url, version) {
  if (!url) return "";
  if (/^https?:/.test(url)) return url; // a public bucket URL
  const cacheKey = `${url}#${version}`;
  if (!state.blobs.has(cacheKey)) {
    state.blobs.set(cacheKey, api(url).then((r) => r.blob()).then((b) => URL.createObjectURL(b)));
  }
  return state.blobs.get(cacheKey);
}

// ---------- key -------------------------------------------------------------------------------
function showKeyState() {
  $("#key-state").textContent = localStorage.getItem(KEY_STORE) ? "key saved" : "no key saved";
}
$("#key-form").addEventListener("submit", (e) => {
  e.preventDefault();
  const key = $("#api-key").value.trim();
  if (key) localStorage.setItem(KEY_STORE, key); else localStorage.removeItem(KEY_STORE);
  $("#api-key").value = "";
  showKeyState();
  refreshList();
});

// ---------- upload ----------------------------------------------------------------------------
function pick(fileList) {
  state.files = [...fileList].filter((f) => f.type.startsWith("image/") || IMAGE_TYPES.test(f.name));
  $("#picked").textContent = state.files.length
    ? `${state.files.length} photo(s): ${state.files.map((f) => f.name).join(", ")}` : "No photos chosen";
}
$("#files").addEventListener("change", (e) => pick(e.target.files));
$("#folder").addEventListener("change", (e) => pick(e.target.files));
const drop = $("#drop");
drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
drop.addEventListener("dragleave", () => drop.classList.remove("over"));
drop.addEventListener("drop", (e) => { e.preventDefault(); drop.classList.remove("over"); pick(e.dataTransfer.files); });

$("#upload-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const message = $("#upload-msg");
  if (!state.files.length) { message.textContent = "Choose at least one photo first."; return; }
  const fields = new FormData(e.target);
  if (fields.get("sku") && state.files.length > 1) {
    message.textContent = "A SKU names one product: leave it empty for several photos (or use a batch CSV).";
    return;
  }
  $("#start").disabled = true;
  let started = 0;
  const failures = [];
  for (const file of state.files) {
    const form = new FormData();
    form.append("file", file, file.name);
    for (const [name, value] of fields) if (typeof value === "string" && value.trim()) form.append(name, value.trim());
    try {
      await api("/api/workflows", { method: "POST", form });
      started += 1;
    } catch (error) {
      failures.push(`${file.name}: ${error.message}`);
    }
    message.textContent = `Started ${started} of ${state.files.length}…`;
  }
  message.textContent = `Started ${started} workflow(s).` + (failures.length ? ` Refused: ${failures.join(" | ")}` : "");
  $("#start").disabled = false;
  pick([]);
  state.offset = 0;
  refreshList();
});

// ---------- list ------------------------------------------------------------------------------
function listQuery() {
  const f = new FormData($("#filters"));
  const params = new URLSearchParams({ limit: state.limit, offset: state.offset });
  if (f.get("status")) params.set("status", f.get("status"));
  if (f.get("needs_review")) params.set("needs_review", "true");
  if (f.get("q")) params.set("q", f.get("q"));
  return params;
}
$("#filters").addEventListener("input", () => { state.offset = 0; refreshList(); });
$("#filters").addEventListener("submit", (e) => e.preventDefault());
$("#prev").addEventListener("click", () => { state.offset = Math.max(0, state.offset - state.limit); refreshList(); });
$("#next").addEventListener("click", () => { state.offset += state.limit; refreshList(); });

function statusBadges(item) {
  const badges = [];
  if (item.status === "FAILED") badges.push('<span class="badge failed">failed</span>');
  if (item.needs_review) badges.push('<span class="badge review">needs review</span>');
  if (item.approved) badges.push('<span class="badge approved">approved</span>');
  return badges.join("");
}

const esc = (text) => String(text ?? "").replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

async function refreshList() {
  let page;
  try {
    page = await getJson(`/api/workflows?${listQuery()}`);
  } catch (error) {
    $("#workflows").innerHTML = `<li class="bad">${esc(error.message)}</li>`;
    return;
  }
  const list = $("#workflows");
  list.replaceChildren(...page.items.map((item) => {
    const li = document.createElement("li");
    li.dataset.id = item.id;
    li.dataset.status = item.status;
    li.className = item.id === state.openId ? "open" : "";
    li.innerHTML = `<input type="checkbox" aria-label="select" ${state.selected.has(item.id) ? "checked" : ""}>
      <span class="ph"></span>
      <div><div class="wf-title">${esc(item.title || item.source_name)}</div>
        <div class="muted"><span class="wf-status">${esc(item.status)}</span>${TERMINAL.has(item.status) ? "" : ` · ${esc(item.current_step)} · ${item.progress}%`}
          ${item.quality_score != null ? ` · score ${item.quality_score}` : ""}${statusBadges(item)}</div>
        <div class="bar"><span style="width:${item.progress}%"></span></div></div>`;
    li.querySelector("input").addEventListener("click", (e) => {
      e.stopPropagation();
      if (e.target.checked) state.selected.add(item.id); else state.selected.delete(item.id);
    });
    li.addEventListener("click", () => openWorkflow(item.id));
    if (item.thumbnail_url) {
      imageUrl(item.thumbnail_url, item.updated_at).then((src) => {
        const img = document.createElement("img");
        img.src = src; img.alt = "";
        li.querySelector(".ph").replaceWith(img);
      }).catch(() => {});
    }
    return li;
  }));
  $("#page-info").textContent = page.total
    ? `${page.offset + 1}–${page.offset + page.items.length} of ${page.total}` : "no workflows yet";
  $("#prev").disabled = page.offset === 0;
  $("#next").disabled = page.offset + page.items.length >= page.total;
  const shown = page.items.find((i) => i.id === state.openId);
  if (shown && state.open && shown.updated_at !== state.open.updated_at) loadDetail(false);
}

// ---------- detail ----------------------------------------------------------------------------
const byteLength = (text) => new TextEncoder().encode(text).length;

function counter(name, text) {
  const el = $(`.counter[data-for="${name}"]`, $("#detail"));
  const limits = state.review?.limits || {};
  let shown = `${[...text].length} chars`;
  let over = false;
  if (name === "title" && limits.title_max_chars) {
    shown = `${[...text].length} / ${limits.title_max_chars} chars`;
    over = [...text].length > limits.title_max_chars;
  } else if (name === "description" && limits.description_max_chars) {
    shown = `${[...text].length} / ${limits.description_max_chars} chars`;
    over = [...text].length > limits.description_max_chars;
  } else if (name === "search_terms" && limits.search_terms_byte_limit) {
    const bytes = byteLength(text);
    shown = `${bytes} / ${limits.search_terms_byte_limit - 1} bytes`;
    over = bytes >= limits.search_terms_byte_limit;
  } else if (name.startsWith("bullet") && limits.bullet_hard_max_chars) {
    shown = `${[...text].length} / ${limits.bullet_soft_max_chars} chars`;
    over = [...text].length > limits.bullet_hard_max_chars;
  }
  if (el) { el.textContent = shown; el.classList.toggle("over", over); }
}

function updateCounters() {
  const form = $("#listing-form");
  for (const name of ["title", "description", "search_terms"]) counter(name, form.elements[name].value);
  form.querySelectorAll("#bullets textarea").forEach((t, i) => counter(`bullet${i}`, t.value));
}
$("#listing-form").addEventListener("input", updateCounters);

async function openWorkflow(id) {
  state.openId = id;
  document.querySelectorAll("#workflows li").forEach((li) => li.classList.toggle("open", li.dataset.id === id));
  await loadDetail(true);
  $("#detail").scrollIntoView({ behavior: "smooth", block: "start" });
}

async function loadDetail(fillForm) {
  const id = state.openId;
  const data = await getJson(`/api/workflows/${id}?events=true`);
  state.open = data;
  state.review = data.status === "COMPLETED" && data.listing ? await getJson(`/api/workflows/${id}/review`) : null;
  const section = $("#detail");
  section.hidden = false;
  section.dataset.id = id;
  section.dataset.status = data.status;
  $("#detail-status").innerHTML = `<strong>${esc(data.source_name)}</strong> · workflow version ${data.version}
    <span id="listing-version"></span> ·
    <span id="detail-state">${esc(data.status)}</span>${TERMINAL.has(data.status) ? "" : ` · ${esc(data.current_step)} · ${data.progress}%`}
    ${data.error ? `<br><span class="bad">${esc(data.error)}</span>` : ""}`;
  renderReview();
  if (fillForm || !$("#listing-form").dataset.filled) fillListing(data.listing);
  renderImages(data);
}

function renderReview() {
  const review = state.review;
  $("#score").textContent = review ? `${review.quality_score}/100` : "";
  const version = $("#listing-version");
  if (version) version.textContent = review ? `· listing version ${review.listing_version}` : "";
  $("#score-verdict").textContent = review ? (review.quality_approved ? "meets the quality bar" : "below the quality bar") : "";
  $("#reasons").innerHTML = (review?.quality_reasons || []).map((r) => `<li>${esc(r)}</li>`).join("");
  $("#findings").innerHTML = (review?.findings || []).map((f) => `<li data-field="${esc(f.field)}">${esc(f.message)}</li>`).join("");
  $("#no-findings").hidden = !review || review.findings.length > 0;
  $("#approved-state").innerHTML = review?.approved ? '<span class="ok">approved</span>'
    : review?.approval_blockers?.length ? `<span class="bad">can't approve yet: ${esc(review.approval_blockers.join(" | "))}</span>` : "";
  $("#approve").disabled = !review || review.approved || review.approval_blockers.length > 0;
  $("#save").disabled = !review;
}

function fillListing(listing) {
  const form = $("#listing-form");
  form.dataset.filled = listing ? "1" : "";
  form.elements.title.value = listing?.title || "";
  form.elements.description.value = listing?.description || "";
  form.elements.search_terms.value = listing?.search_terms || "";
  form.elements.keywords.value = (listing?.keywords || []).join(", ");
  const bullets = $("#bullets");
  bullets.querySelectorAll("label").forEach((l) => l.remove());
  (listing?.bullet_points || ["", "", "", "", ""]).forEach((text, i) => {
    const label = document.createElement("label");
    label.innerHTML = `Bullet ${i + 1} <span class="counter" data-for="bullet${i}"></span><textarea name="bullet${i}" rows="2"></textarea>`;
    label.querySelector("textarea").value = text;
    bullets.append(label);
  });
  updateCounters();
}

$("#listing-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const form = e.target;
  const body = {
    title: form.elements.title.value,
    description: form.elements.description.value,
    search_terms: form.elements.search_terms.value,
    keywords: form.elements.keywords.value.split(",").map((k) => k.trim()).filter(Boolean),
    bullet_points: [...form.querySelectorAll("#bullets textarea")].map((t) => t.value),
  };
  try {
    state.review = await getJson(`/api/workflows/${state.openId}/listing`, { method: "PATCH", json: body });
    $("#listing-msg").textContent = `Saved as version ${state.review.listing_version}.`;
    renderReview();
    updateCounters();
    refreshList();
  } catch (error) { $("#listing-msg").textContent = error.message; }
});

$("#approve").addEventListener("click", async () => {
  try {
    state.review = await getJson(`/api/workflows/${state.openId}/approve`, { method: "POST" });
    $("#listing-msg").textContent = "Approved.";
    renderReview();
    refreshList();
  } catch (error) { $("#listing-msg").textContent = error.message; }
});

$("#regen-listing").addEventListener("click", async () => {
  const feedback = $("#feedback").value.trim() || null;
  try {
    const answer = await getJson(`/api/workflows/${state.openId}/regenerate`,
      { method: "POST", json: { target: "listing", feedback } });
    $("#feedback").value = "";
    $("#listing-msg").textContent = "A new version is being written.";
    await refreshList();
    await openWorkflow(answer.workflow_id);
  } catch (error) { $("#listing-msg").textContent = error.message; }
});

const regeneratedCount = (data) => (data.events || []).filter((e) => e.kind === "image_regenerated").length;

function renderImages(data) {
  const list = $("#images");
  const items = data.images?.items || [];
  const done = regeneratedCount(data);
  for (const [index, before] of state.pendingImages) if (done > before) state.pendingImages.delete(index);
  list.replaceChildren(...items.map((item) => {
    const li = document.createElement("li");
    li.dataset.index = item.index;
    const compliance = item.compliance || {};
    const verdict = item.error ? `<span class="bad">failed: ${esc(item.error)}</span>`
      : compliance.passed ? '<span class="ok">passes its checks</span>' : '<span class="bad">fails its checks</span>';
    const pending = state.pendingImages.has(item.index);
    li.innerHTML = `<img alt="${esc(item.kind)} image">
      <div><strong>${item.index}. ${esc(item.kind)}</strong> <span class="verdict">${verdict}</span></div>
      <ul>${(compliance.reasons || []).map((r) => `<li>${esc(r)}</li>`).join("")}</ul>
      <textarea rows="2" maxlength="2000" placeholder="feedback (optional)"></textarea>
      <button type="button" class="regen-image" ${pending || data.status !== "COMPLETED" ? "disabled" : ""}>${pending ? "Regenerating…" : "Regenerate image"}</button>`;
    imageUrl(item.thumbnail_url || item.url, `${data.updated_at}-${done}`).then((src) => { li.querySelector("img").src = src; }).catch(() => {});
    li.querySelector("button").addEventListener("click", () => regenerateImage(item.index, li.querySelector("textarea").value.trim()));
    return li;
  }));
}

async function regenerateImage(index, feedback) {
  const before = regeneratedCount(state.open);
  try {
    await api(`/api/workflows/${state.openId}/regenerate`,
      { method: "POST", json: { target: "image", image: index, feedback: feedback || null } });
    state.pendingImages.set(index, before);
    renderImages(state.open);
  } catch (error) { $("#listing-msg").textContent = error.message; }
}

// ---------- export ----------------------------------------------------------------------------
async function download(response, fallback) {
  const disposition = response.headers.get("Content-Disposition") || "";
  const name = (disposition.match(/filename="([^"]+)"/) || [])[1] || fallback;
  const link = document.createElement("a");
  link.href = URL.createObjectURL(await response.blob());
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
}

$("#export").addEventListener("click", async () => {
  const params = new URLSearchParams({ format: $("#export-format").value });
  if ($("#include-unapproved").checked) params.set("include_unapproved", "true");
  try {
    await download(await api(`/api/workflows/${state.openId}/export?${params}`), "export.zip");
    $("#export-msg").textContent = "Downloaded.";
  } catch (error) { $("#export-msg").textContent = error.message; }
});

$("#batch-export").addEventListener("click", async () => {
  const message = $("#batch-msg");
  if (!state.selected.size) { message.textContent = "Tick the workflows to export first."; return; }
  try {
    await download(await api("/api/exports", { method: "POST", json: {
      ids: [...state.selected], format: $("#batch-format").value,
      include_unapproved: $("#batch-unapproved").checked } }), "export.zip");
    message.textContent = `Downloaded ${state.selected.size} listing(s).`;
  } catch (error) { message.textContent = error.message; }
});

// ---------- live updates ----------------------------------------------------------------------
async function tick() {
  await refreshList().catch(() => {});
  if (state.openId && state.pendingImages.size) await loadDetail(false).catch(() => {});
  setTimeout(tick, POLL_MS);
}
showKeyState();
tick();
