#include "tools/serve_page.hpp"

namespace nst::serve {

// Text from the server is put in with textContent only, never as HTML.
const std::string& page_html() {
  static const std::string page = R"nstpage(<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>nst: style transfer</title>
<link rel="icon" href="data:,">
<style>
  body { font: 15px/1.4 system-ui, sans-serif; margin: 0; background: #f4f2ee; color: #222; }
  header { padding: 12px 20px; background: #2d2a26; color: #fff; }
  header h1 { font-size: 18px; margin: 0; display: inline; }
  nav { display: inline; margin-left: 24px; }
  nav button { background: none; border: 0; color: #bbb; font: inherit; padding: 4px 10px; cursor: pointer; }
  nav button.on { color: #fff; border-bottom: 2px solid #e0a040; }
  main { padding: 20px; max-width: 1100px; margin: auto; }
  section { display: none; } section.on { display: block; }
  .drop { display: block; border: 2px dashed #999; border-radius: 8px; padding: 18px; text-align: center; background: #fff; }
  .drop.over { border-color: #e0a040; background: #fff8ec; }
  .drop img { max-height: 160px; display: block; margin: 8px auto 0; }
  .styles { display: flex; flex-wrap: wrap; gap: 10px; margin: 14px 0; }
  .styles button { border: 3px solid transparent; background: #fff; padding: 4px; cursor: pointer;
                   border-radius: 6px; width: 112px; font-size: 12px; }
  .styles button.on { border-color: #e0a040; }
  .styles img { width: 96px; height: 96px; display: block; margin: auto; background: #ddd; }
  .row { display: flex; gap: 14px; align-items: center; flex-wrap: wrap; margin: 10px 0; }
  .go { background: #2d2a26; color: #fff; border: 0; padding: 8px 18px; border-radius: 5px; cursor: pointer; }
  .go:disabled { opacity: 0.4; cursor: default; }
  .result img { max-width: 100%; margin-top: 10px; box-shadow: 0 2px 8px #0003; }
  .msg { min-height: 1.4em; } .err { color: #b00020; }
  progress { width: 320px; height: 16px; }
  .pair { display: grid; grid-template-columns: 1fr 1fr; gap: 14px; }
</style>
</head>
<body>
<header><h1>nst</h1>
  <nav><button id="tab-fast" class="on">Fast styles</button><button id="tab-opt">Optimise</button></nav>
</header>
<main>
<section id="fast" class="on">
  <label class="drop" id="drop">Drop a photo here, or click to choose one
    <input type="file" id="photo" accept="image/*" hidden><img id="photo-preview" alt="" hidden>
  </label>
  <div class="styles" id="styles"></div>
  <div class="row">
    <label>Long side <select id="size"><option value="">photo's own (capped)</option>
      <option>256</option><option selected>512</option><option>1024</option></select></label>
    <label>Format <select id="format"><option>png</option><option>jpg</option></select></label>
    <button class="go" id="paint" disabled>Paint</button>
    <a id="download" hidden>Download</a>
  </div>
  <div class="msg" id="fast-msg"></div>
  <div class="result"><img id="result" alt="" hidden></div>
</section>
<section id="opt">
  <p>Optimisation mode (Gatys et al.): slower, any painting. The picture improves while it runs.</p>
  <div class="pair">
    <label class="drop">Photo <input type="file" id="job-photo" accept="image/*"></label>
    <label class="drop">Painting <input type="file" id="job-painting" accept="image/*"></label>
  </div>
  <div class="row">
    <label>Long side <input type="number" id="job-size" min="32" max="512" value="256"></label>
    <label>Iterations per scale <input type="number" id="job-iterations" min="1" max="500" value="100"></label>
    <button class="go" id="start">Start</button>
    <button class="go" id="cancel" disabled>Cancel</button>
    <a id="job-download" hidden>Download</a>
  </div>
  <div class="row"><progress id="progress" max="1" value="0"></progress><span class="msg" id="job-msg"></span></div>
  <div class="result"><img id="job-image" alt="" hidden></div>
</section>
</main>
<script>
"use strict";
const $ = (id) => document.getElementById(id);
let photo = null, choice = null, job = null, timer = null;

function tab(name) {
  for (const t of ["fast", "opt"]) {
    $(t).classList.toggle("on", t === name);
    $("tab-" + t).classList.toggle("on", t === name);
  }
}
$("tab-fast").onclick = () => tab("fast");
$("tab-opt").onclick = () => tab("opt");

function say(id, text, error) {
  $(id).textContent = text;
  $(id).classList.toggle("err", !!error);
}
async function problem(r) {
  try { return (await r.json()).error; } catch (e) { return r.status + " " + r.statusText; }
}

async function loadModels() {
  const r = await fetch("/api/models");
  if (!r.ok) { say("fast-msg", await problem(r), true); return; }
  const list = await r.json();
  for (const m of list.models) {
    for (const s of m.styles) {
      const b = document.createElement("button"), img = document.createElement("img");
      img.src = s.thumbnail;
      img.alt = "";
      b.append(img, m.styles.length > 1 ? m.name + ": " + s.name : m.name);
      b.onclick = () => pick(b, m.name, s.index);
      $("styles").append(b);
      if (!choice) pick(b, m.name, s.index);
    }
  }
  $("job-size").max = list.limits.job_max_size;
  $("job-iterations").max = list.limits.job_max_iterations;
  if (!list.jobs) {
    say("job-msg", "Optimisation jobs are off on this server (no VGG-19 weights).", true);
    $("start").disabled = true;
  }
}
function pick(button, model, style) {
  for (const b of $("styles").children) b.classList.toggle("on", b === button);
  choice = { model, style };
  $("paint").disabled = !photo;
}

function setPhoto(file) {
  if (!file) return;
  photo = file;
  $("photo-preview").src = URL.createObjectURL(file);
  $("photo-preview").hidden = false;
  $("paint").disabled = !choice;
}
$("photo").onchange = () => setPhoto($("photo").files[0]);
const drop = $("drop");
drop.ondragover = (e) => { e.preventDefault(); drop.classList.add("over"); };
drop.ondragleave = () => drop.classList.remove("over");
drop.ondrop = (e) => { e.preventDefault(); drop.classList.remove("over"); setPhoto(e.dataTransfer.files[0]); };

function show(imgId, linkId, url, name) {
  $(imgId).src = url;
  $(imgId).hidden = false;
  $(linkId).href = url;
  $(linkId).download = name;
  $(linkId).hidden = false;
}

$("paint").onclick = async () => {
  const form = new FormData();
  form.append("image", photo);
  form.append("model", choice.model);
  form.append("style", choice.style);
  form.append("format", $("format").value);
  if ($("size").value) form.append("size", $("size").value);
  $("paint").disabled = true;
  say("fast-msg", "Painting...");
  const t0 = performance.now();
  try {
    const r = await fetch("/api/fast", { method: "POST", body: form });
    if (!r.ok) { say("fast-msg", await problem(r), true); return; }
    const url = URL.createObjectURL(await r.blob());
    show("result", "download", url, "nst-" + choice.model + "." + $("format").value);
    say("fast-msg", "Done in " + ((performance.now() - t0) / 1000).toFixed(2) + " s.");
  } catch (e) {
    say("fast-msg", "The server could not be reached: " + e, true);
  } finally {
    $("paint").disabled = false;
  }
};

$("start").onclick = async () => {
  const p = $("job-photo").files[0], s = $("job-painting").files[0];
  if (!p || !s) { say("job-msg", "Choose a photo and a painting first.", true); return; }
  const form = new FormData();
  form.append("photo", p);
  form.append("painting", s);
  form.append("size", $("job-size").value);
  form.append("iterations", $("job-iterations").value);
  const r = await fetch("/api/jobs", { method: "POST", body: form });
  if (!r.ok) { say("job-msg", await problem(r), true); return; }
  job = (await r.json()).id;
  $("start").disabled = true;
  $("cancel").disabled = false;
  $("job-download").hidden = true;
  poll();
};
$("cancel").onclick = async () => {
  if (job) await fetch("/api/jobs/" + job, { method: "DELETE" });
};

async function poll() {
  clearTimeout(timer);
  const r = await fetch("/api/jobs/" + job);
  if (!r.ok) { say("job-msg", await problem(r), true); finished(); return; }
  const s = await r.json();
  $("progress").value = s.progress;
  let text = s.state + ": " + s.done + " / " + s.total + " iterations";
  if (s.loss !== null) text += ", loss " + s.loss.toExponential(3);
  if (s.eta_seconds !== null) text += ", about " + Math.ceil(s.eta_seconds) + " s left";
  if (s.message) text += " (" + s.message + ")";
  say("job-msg", text, s.state === "failed");
  if (s.image_url) show("job-image", "job-download", s.image_url + "?at=" + s.done, "nst-job.png");
  if (s.state === "queued" || s.state === "running") timer = setTimeout(poll, 1000);
  else finished();
}
function finished() {
  $("start").disabled = false;
  $("cancel").disabled = true;
}

loadModels();
</script>
</body>
</html>
)nstpage";
  return page;
}

}  // namespace nst::serve
