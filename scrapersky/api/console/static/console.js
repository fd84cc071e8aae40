// The ScraperSky console: one page over the node's JSON API, with the caller's API key.
// Everything a site or a caller wrote (titles, URLs, errors) is shown as text, never as HTML,
// and only http(s) URLs become links.

const view = document.getElementById("view");
const KEY = "scrapersky.key";
const POLL_MS = 3000;
let timer = null;

// --- the API --------------------------------------------------------------------------------

async function api(path, body) {
  const key = sessionStorage.getItem(KEY);
  const init = { headers: { Authorization: `Bearer ${key}` } };
  if (body !== undefined) {
    init.method = "POST";
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const answer = await fetch(`/${path}`, init);  // the API lives at the node's root, beside /console/
  const data = await answer.json().catch(() => ({ message: `HTTP ${answer.status}` }));
  if (answer.status === 401) sessionStorage.removeItem(KEY);  // route() then asks for a key again
  if (!answer.ok || data.status === "error") throw new Error(data.message || `HTTP ${answer.status}`);
  return data;
}

// --- building the page (text only) ----------------------------------------------------------

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (name === "onclick" || name === "onsubmit" || name === "onchange") node.addEventListener(name.slice(2), value);
    else if (value !== null && value !== undefined && value !== false) node.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function safeLink(url, text) {
  return /^https?:\/\//i.test(url || "") ? el("a", { href: url, rel: "noopener noreferrer", target: "_blank" }, text || url)
    : document.createTextNode(url || "");
}

const state = (value) => el("span", { class: `state state-${value}` }, value);
const when = (iso) => (iso ? new Date(iso).toLocaleString() : "");
const number = (n) => (n === null || n === undefined ? "" : Number(n).toLocaleString());

function show(...children) {
  view.replaceChildren(...children);
}

function failure(error) {
  return el("p", { class: "error", role: "alert" }, error.message || String(error));
}

function poll(fn) {
  clearTimeout(timer);
  timer = setTimeout(async () => {
    if (document.visibilityState === "visible") await fn().catch(() => {});
    poll(fn);
  }, POLL_MS);
}

// --- views ----------------------------------------------------------------------------------

function signIn() {
  const form = document.getElementById("signin").content.cloneNode(true);
  show(form);
  document.getElementById("key").focus();
  document.getElementById("key-form").addEventListener("submit", (event) => {
    event.preventDefault();
    sessionStorage.setItem(KEY, document.getElementById("key").value.trim());
    route();
  });
}

async function batches(params) {
  const after = params.get("after") || "";
  const data = await api(`batches.json?limit=25${after ? `&after=${encodeURIComponent(after)}` : ""}`);
  const rows = data.batches.map((b) => el("tr", {},
    el("td", {}, el("a", { href: `#/batch/${encodeURIComponent(b.batch_id)}` }, b.batch_id.slice(0, 8))),
    el("td", {}, state(b.status)),
    el("td", {}, el("progress", { max: 1, value: b.progress, "aria-label": `${Math.round(b.progress * 100)}%` })),
    el("td", {}, `${number(b.completed_domains)} / ${number(b.total_domains)}`),
    el("td", {}, number(b.failed_domains)),
    el("td", { class: "optional" }, when(b.created_at))));
  show(el("section", { class: "card" },
    el("h1", {}, "Batches"),
    rows.length ? el("div", { class: "table-wrap" }, el("table", {},
      el("thead", {}, el("tr", {}, ["Batch", "State", "Progress", "Complete", "Failed"].map((h) => el("th", { scope: "col" }, h)),
        el("th", { scope: "col", class: "optional" }, "Created"))),
      el("tbody", {}, rows)))
      : el("p", { class: "muted" }, "No batch yet. ", el("a", { href: "#/new" }, "Start one.")),
    data.next_after ? el("div", { class: "pager" }, el("a", { href: `#/batches?after=${data.next_after}` }, "Older batches")) : null));
  poll(() => batches(params));
}

function batchSummary(b, counts) {
  const started = b.start_time ? new Date(b.start_time) : null;
  const ended = b.end_time ? new Date(b.end_time) : Date.now();
  const done = b.completed_domains + b.failed_domains + (counts.cancelled || 0);
  const minutes = started ? Math.max((ended - started) / 60000, 1 / 60) : 0;
  const rate = started && done ? done / minutes : 0;
  const left = rate && b.status === "running" ? Math.ceil((b.total_domains - done) / rate) : null;
  return el("div", {},
    el("progress", { max: 1, value: b.progress, "aria-label": `progress ${Math.round(b.progress * 100)}%` }),
    el("div", { class: "counts" },
      ["pending", "running", "complete", "failed", "cancelled"].map((name) =>
        el("div", {}, el("b", { "data-count": name }, number(counts[name] || 0)), name)),
      el("div", {}, el("b", {}, rate ? `${rate.toFixed(1)}/min` : "–"), "rate"),
      el("div", {}, el("b", {}, left === null ? "–" : `${left} min`), "time left"),
      el("div", {}, el("b", {}, number(counts.runs || 0)), "runs at work")));
}

async function batch(id, params) {
  const filter = params.get("state") || "";
  const sort = params.get("sort") || "id";
  const after = params.get("after") || "";
  const data = await api(`batchstatus.json?batch=${encodeURIComponent(id)}&limit=100${after ? `&after=${after}` : ""}`);
  const b = data.batch;
  const counts = b.counts || {};
  let jobs = b.jobs.filter((j) => !filter || j.status === filter);
  const key = { domain: (j) => j.domain, state: (j) => j.status, urls: (j) => -((j.result_data || {}).urls_listed || 0) }[sort];
  if (key) jobs = [...jobs].sort((x, y) => (key(x) < key(y) ? -1 : key(x) > key(y) ? 1 : 0));
  const link = (changes) => {
    const next = new URLSearchParams(params);
    for (const [k, v] of Object.entries(changes)) (v ? next.set(k, v) : next.delete(k));
    return `#/batch/${encodeURIComponent(id)}?${next}`;
  };
  const active = b.status === "pending" || b.status === "running";
  const actions = el("div", { class: "row" },
    active ? el("button", { type: "button", class: "danger", onclick: () => act(() => api("cancel.json", { id: b.batch_id })) }, "Cancel batch") : null,
    !active && b.failed_domains ? el("button", { type: "button", onclick: () => act(() => api("retry.json", { batch: b.batch_id })) }, "Retry failed domains") : null);
  const sortButton = (name, label) => el("button", { type: "button", onclick: () => (location.hash = link({ sort: name })) }, label);
  show(el("section", { class: "card" },
      el("h1", {}, "Batch ", b.batch_id, " ", state(b.status)),
      batchSummary(b, counts), actions, b.error ? el("p", { class: "error" }, b.error) : null),
    el("section", { class: "card" },
      el("div", { class: "row" },
        el("div", {}, el("label", { for: "filter" }, "Show"),
          el("select", { id: "filter", onchange: (e) => (location.hash = link({ state: e.target.value, after: "" })) },
            ["", "pending", "running", "complete", "failed", "cancelled"].map((s) =>
              el("option", { value: s, selected: s === filter }, s || "every state"))))),
      el("div", { class: "table-wrap" }, el("table", {},
        el("thead", {}, el("tr", {}, el("th", { scope: "col" }, sortButton("domain", "Domain")),
          el("th", { scope: "col" }, sortButton("state", "State")), el("th", { scope: "col" }, sortButton("urls", "URLs")),
          el("th", { scope: "col", class: "optional" }, "Error"))),
        el("tbody", {}, jobs.map((j) => el("tr", {},
          el("td", {}, j.status === "complete" || j.domain_id ? el("a", { href: `#/domain/${encodeURIComponent(j.domain)}` }, j.domain) : j.domain),
          el("td", {}, state(j.status)), el("td", {}, number((j.result_data || {}).urls_listed)),
          el("td", { class: "optional" }, j.error || "")))))),
      el("div", { class: "pager" },
        after ? el("a", { href: link({ after: "" }) }, "First page") : null,
        data.next_after ? el("a", { href: link({ after: data.next_after }) }, "Next page") : null)));
  if (active) poll(() => batch(id, params));
}

async function act(fn) {
  try {
    await fn();
    route();
  } catch (error) {
    view.prepend(failure(error));
  }
}

function tree(files) {
  const children = new Map();
  for (const file of files) {
    const parent = file.parent_id || 0;
    if (!children.has(parent)) children.set(parent, []);
    children.get(parent).push(file);
  }
  const known = new Set(files.map((f) => f.id));
  const branch = (parent, root) => el("ul", { class: root ? "tree root" : "tree" },
    (children.get(parent) || []).map((f) => el("li", {},
      safeLink(f.url), " ", el("span", { class: "muted" }, `${f.sitemap_type || "?"} · ${number(f.url_count)} URLs`),
      f.error_message ? el("span", { class: "error" }, ` · ${f.error_message}`) : null,
      children.has(f.id) ? branch(f.id, false) : null)));
  // Files whose parent is not among them start branches of their own.
  for (const file of files) if (file.parent_id && !known.has(file.parent_id)) file.parent_id = 0;
  return branch(0, true);
}

function history(current, changes) {
  // URL count after each scan, walking back from today's count through each scan's net change.
  const scans = [];
  for (const change of changes) {
    const last = scans[scans.length - 1];
    if (!last || last.job !== change.job_id) scans.push({ job: change.job_id, at: change.changed_at, net: 0 });
    const step = scans[scans.length - 1];
    if (change.kind === "page_added") step.net += 1;
    if (change.kind === "page_removed") step.net -= 1;
  }
  let count = current;
  const points = [];
  for (let i = scans.length - 1; i >= 0; i--) {
    points.unshift({ at: scans[i].at, count });
    count -= scans[i].net;
  }
  const top = Math.max(1, ...points.map((p) => p.count));
  return el("div", { class: "spark", role: "img", "aria-label": `URL count over ${points.length} scans` },
    points.map((p) => {
      const bar = el("span", { title: `${when(p.at)}: ${p.count}` });
      bar.style.height = `${Math.max(2, (48 * p.count) / top)}px`;  // CSSOM: allowed by the page's CSP
      return bar;
    }));
}

async function domain(name) {
  if (!name) {
    show(el("section", { class: "card narrow" }, el("h1", {}, "Open a domain"),
      el("form", { onsubmit: (e) => { e.preventDefault(); location.hash = `#/domain/${encodeURIComponent(e.target.name.value.trim())}`; } },
        el("label", { for: "name" }, "Domain"), el("input", { id: "name", name: "name", required: true }),
        el("p", {}, el("button", { type: "submit" }, "Open")))));
    return;
  }
  const [data, changes] = await Promise.all([
    api(`domain.json?domain=${encodeURIComponent(name)}`),
    api(`changes.json?domain=${encodeURIComponent(name)}`).catch(() => ({ changes: [] })),
  ]);
  const d = data.domain;
  const list = (values) => (values || []).join(", ");
  const social = ["facebook_url", "twitter_url", "linkedin_url", "instagram_url", "youtube_url", "tiktok_url"]
    .filter((k) => d[k]).map((k) => el("div", {}, safeLink(d[k])));
  const types = Object.entries(d.structured_data || {}).map(([syntax, items]) =>
    `${syntax}: ${[...new Set((items || []).map((i) => [].concat(i["@type"] || i.type || []).join("/")).filter(Boolean))].join(", ") || items.length}`);
  const rows = [["Title", d.title], ["Description", d.description], ["Language", d.language],
    ["Favicon", safeLink(d.favicon_url)], ["Logo", safeLink(d.logo_url)], ["E-mail", list(d.email_addresses)],
    ["Phone", list(d.phone_numbers)], ["Social", social], ["Technology", Object.keys(d.tech_stack || {}).join(", ")],
    ["WordPress", d.is_wordpress ? `yes ${d.wordpress_version || ""}` : "no"], ["Structured data", types.join("; ")],
    ["URLs listed", number(d.sitemap_urls)], ["Sitemaps", number(d.total_sitemaps)], ["Last scan", when(d.last_scan)],
    ["Last error", d.last_error]];
  const recent = changes.changes.slice(-20).reverse();
  show(
    el("section", { class: "card" }, el("h1", {}, d.domain, " ", state(d.status)),
      el("dl", { class: "meta" }, rows.map(([k, v]) => [el("dt", {}, k), el("dd", {}, v ?? "")])),
      el("p", {}, el("button", { type: "button", class: "secondary", onclick: () => exportPages(d.domain) }, "Export pages (CSV)"))),
    el("section", { class: "card" }, el("h2", {}, "URL count over time"), history(d.sitemap_urls, changes.changes)),
    el("section", { class: "card" }, el("h2", {}, "Latest changes"),
      recent.length ? el("div", { class: "table-wrap" }, el("table", {}, el("tbody", {}, recent.map((c) =>
        el("tr", {}, el("td", {}, when(c.changed_at)), el("td", {}, c.kind), el("td", {}, c.subject)))))) : el("p", { class: "muted" }, "No change recorded yet.")),
    el("section", { class: "card" }, el("h2", {}, "Sitemaps"), tree(data.sitemap_files)));
}

// The rule of scrapersky/spreadsheet.py: a cell a spreadsheet would take for a formula (=, +, -,
// @, tab, carriage return, or their full-width forms, after leading blanks) gets a quote in front.
function formulaSafe(value) {
  const text = String(value);
  if (typeof value === "number") return text;
  const start = text.replace(/^[ \n\v\f\u00a0\u3000]+/, "").charAt(0);
  return start && "=+-@\t\r\uff1d\uff0b\uff0d\uff20".includes(start) ? `'${text}` : text;
}

async function exportPages(name) {
  const lines = [["url", "lastmod", "changefreq", "priority"]];
  let after = "";
  do {
    const page = await api(`pages.json?domain=${encodeURIComponent(name)}&limit=10000${after ? `&after=${after}` : ""}`);
    for (const p of page.pages) lines.push([p.url, p.lastmod || "", p.changefreq || "", p.priority ?? ""]);
    after = page.next_after;
  } while (after);
  const csv = lines.map((row) => row.map((v) => `"${formulaSafe(v).replaceAll('"', '""')}"`).join(",")).join("\r\n");
  const link = el("a", { href: URL.createObjectURL(new Blob([csv], { type: "text/csv" })), download: `${name}-pages.csv` });
  link.click();
}

function newScan() {
  const message = el("div", { role: "status" });
  const submit = async (event) => {
    event.preventDefault();
    const form = event.target;
    const file = form.file.files[0];
    const text = `${form.domains.value}\n${file ? await file.text() : ""}`.trim();
    const options = { max_pages: Number(form.max_pages.value || 0), render: form.render.value };
    try {
      const names = text.split(/[\s,]+/).filter(Boolean);
      if (names.length === 1) {
        const job = await api("scan.json", { domain: names[0], ...options });
        location.hash = `#/job/${encodeURIComponent(job.job_id)}`;
      } else {
        const started = await api("batch.json", { domains: text, ...options });
        location.hash = `#/batch/${encodeURIComponent(started.batch_id)}`;
      }
    } catch (error) {
      message.replaceChildren(failure(error));
    }
  };
  show(el("section", { class: "card" }, el("h1", {}, "New scan"),
    el("form", { onsubmit: submit },
      el("label", { for: "domains" }, "Domains (one a line, or comma separated)"),
      el("textarea", { id: "domains", name: "domains" }),
      el("label", { for: "file" }, "…or upload a list"), el("input", { id: "file", name: "file", type: "file", accept: ".txt,.csv,text/plain" }),
      el("div", { class: "row" },
        el("div", {}, el("label", { for: "max_pages" }, "Pages fetched per domain"), el("input", { id: "max_pages", name: "max_pages", type: "number", min: 0, value: 0 })),
        el("div", {}, el("label", { for: "render" }, "Rendering"), el("select", { id: "render", name: "render" },
          ["auto", "always", "never"].map((m) => el("option", { value: m }, m))))),
      el("p", {}, el("button", { type: "submit" }, "Start")), message)));
  document.getElementById("domains").focus();
}

async function job(id) {
  const data = await api(`jobstatus.json?job=${encodeURIComponent(id)}`);
  const j = data.job;
  show(el("section", { class: "card" }, el("h1", {}, "Scan of ", j.domain, " ", state(j.status)),
    el("progress", { max: 1, value: j.progress }),
    j.error ? el("p", { class: "error" }, j.error) : null,
    j.status === "complete" ? el("p", {}, el("a", { href: `#/domain/${encodeURIComponent(j.domain)}` }, "Open the domain")) : null));
  if (j.status === "pending" || j.status === "running") poll(() => job(id));
}

// --- routing --------------------------------------------------------------------------------

async function route() {
  clearTimeout(timer);
  const signedIn = Boolean(sessionStorage.getItem(KEY));
  document.getElementById("signout").hidden = !signedIn;
  if (!signedIn) return signIn();
  const [path, query] = (location.hash.slice(1) || "/batches").split("?");
  const params = new URLSearchParams(query || "");
  const [, name, arg] = path.split("/").map(decodeURIComponent);
  const views = { batches: () => batches(params), batch: () => batch(arg, params), domain: () => domain(arg),
                  new: () => newScan(), job: () => job(arg) };
  try {
    await (views[name] || views.batches)();
  } catch (error) {
    if (!sessionStorage.getItem(KEY)) return signIn();
    show(failure(error));
  }
}

document.getElementById("signout").addEventListener("click", () => {
  sessionStorage.removeItem(KEY);
  route();
});
window.addEventListener("hashchange", () => {
  route();
  view.focus();
});
route();
