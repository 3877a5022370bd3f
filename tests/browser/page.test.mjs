// nst serve's page (GET /) driven in Debian's headless Chromium with playwright-core.
//
//   Fast styles: upload a photo, pick a style (not the first), paint at 256 px; the
//     picture must appear, be a PNG whose header and decoded size agree, with a long
//     side of 256 and the photo's aspect, and the request must name the style picked.
//   Optimise: start a job (photo + painting, 256 px, 500 iterations per scale); its
//     progress bar, status line and intermediate picture must show; Cancel must end
//     it in state `cancelled` (on the page and from GET /api/jobs/ID).
//   The server must exit 0 on SIGTERM at the end.
//
// Usage: node page.test.mjs NST MODELS_DIR WEIGHTS   (tests/browser/run.sh checks
// what it needs first and gives ctest 77, skipped, when something is missing).
// Environment: CHROMIUM (default /usr/bin/chromium); NST_SHARED (default the
// folder `shared` beside the repository) for the photos tubingen.jpg and
// starry_night.jpg, made up here when absent; SCREENSHOT=FILE.png saves the page
// with the fast picture showing (docs/serve.png).
// Exit status: 0 passed, 1 failed. The server (started on a free loopback port with
// a temporary work folder) and the browser are ended whatever happens.
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import zlib from "node:zlib";
import { chromium } from "playwright-core";

const here = path.dirname(fileURLToPath(import.meta.url));
const [nst, modelsDir, weights] = process.argv.slice(2);
const chromiumPath = process.env.CHROMIUM || "/usr/bin/chromium";
const shared = process.env.NST_SHARED || path.resolve(here, "../../../shared");
const screenshot = process.env.SCREENSHOT || "";
const FAST_SIZE = 256;
const WATCHDOG_SECONDS = 150;

const t0 = Date.now();
const log = (...a) => console.log(`[${((Date.now() - t0) / 1000).toFixed(1)} s]`, ...a);
class Failure extends Error {}
function check(ok, what) {
  if (!ok) throw new Failure(what);
}

// A smooth colour photo as a PNG (when the shared photos are not there).
function madeUpPng(w, h, phase) {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (buf) => {
    let c = 0xffffffff;
    for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type, data) => {
    const out = Buffer.alloc(12 + data.length);
    out.writeUInt32BE(data.length, 0);
    out.write(type, 4, "latin1");
    data.copy(out, 8);
    out.writeUInt32BE(crc(out.subarray(4, 8 + data.length)), 8 + data.length);
    return out;
  };
  const rows = Buffer.alloc(h * (1 + 3 * w));
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const i = y * (1 + 3 * w) + 1 + 3 * x;
      rows[i] = 128 + 120 * Math.sin(x / 17 + phase);
      rows[i + 1] = 128 + 120 * Math.sin(y / 11 + 2 * phase);
      rows[i + 2] = 128 + 120 * Math.sin((x + y) / 23);
    }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);  // 8 bits, RGB
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk("IHDR", ihdr),
                        chunk("IDAT", zlib.deflateSync(rows)), chunk("IEND", Buffer.alloc(0))]);
}

function photos(dir) {
  const pick = (name, w, h, phase) => {
    const real = path.join(shared, "images", name);
    if (fs.existsSync(real)) return real;
    const made = path.join(dir, name.replace(/\.jpg$/, ".png"));
    fs.writeFileSync(made, madeUpPng(w, h, phase));
    return made;
  };
  return { photo: pick("tubingen.jpg", 400, 300, 0), painting: pick("starry_night.jpg", 300, 240, 1) };
}

// nst serve on port 0 (the kernel picks a free one; the start line says which).
function startServer(work) {
  const args = ["serve", "--port", "0", "--models", modelsDir, "--weights", weights, "--work", work];
  const child = spawn(nst, args, { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  const exited = new Promise((resolve) => child.on("exit", (code, signal) => resolve({ code, signal })));
  const url = new Promise((resolve, reject) => {
    child.stderr.on("data", (d) => {
      stderr += d;
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)\//.exec(stderr);
      if (m) resolve(m[1]);
    });
    exited.then((e) => reject(new Failure(`nst serve ended before listening (${JSON.stringify(e)}):\n${stderr}`)));
    setTimeout(() => reject(new Failure(`nst serve did not listen within 60 s:\n${stderr}`)), 60000).unref();
  });
  return { child, url, exited, stderr: () => stderr };
}

async function stopServer(server) {
  if (server.child.exitCode !== null || server.child.signalCode !== null) return server.exited;
  server.child.kill("SIGTERM");
  const timer = setTimeout(() => server.child.kill("SIGKILL"), 15000);
  const e = await server.exited;
  clearTimeout(timer);
  return e;
}

async function fastTab(page, base, files) {
  await page.goto(base + "/");
  await page.waitForFunction(() => document.querySelectorAll("#styles button").length > 0);
  const styles = await page.$$eval("#styles button", (bs) => bs.map((b) => b.textContent));
  log("styles on the page:", styles.join(", "));
  // Every thumbnail loads (a 96 x 96 picture painted by its network).
  await page.waitForFunction(() => [...document.querySelectorAll("#styles img")]
      .every((i) => i.complete && i.naturalWidth > 0), null, { timeout: 30000 });
  const thumbs = await page.$$eval("#styles img", (is) => is.map((i) => [i.naturalWidth, i.naturalHeight]));
  check(thumbs.every(([w, h]) => w === 96 && h === 96), `thumbnails not 96 x 96: ${JSON.stringify(thumbs)}`);

  await page.setInputFiles("#photo", files.photo);
  await page.waitForFunction(() => $("photo-preview").complete && $("photo-preview").naturalWidth > 0);
  const [pw, ph] = await page.$eval("#photo-preview", (i) => [i.naturalWidth, i.naturalHeight]);
  // The preview sits inside one drop box (an inline box would be cut in pieces around it).
  const boxes = await page.$eval("#drop", (d) => d.getClientRects().length);
  const [drop, preview] = [await page.locator("#drop").boundingBox(), await page.locator("#photo-preview").boundingBox()];
  check(boxes === 1 && preview.x >= drop.x && preview.y >= drop.y && preview.x + preview.width <= drop.x + drop.width &&
        preview.y + preview.height <= drop.y + drop.height, `the photo is not shown inside one drop box (${boxes} boxes)`);
  const wanted = styles.includes("udnie") ? "udnie" : styles[styles.length - 1];
  const button = page.locator("#styles button", { hasText: wanted }).first();
  await button.click();
  check(await button.evaluate((b) => b.classList.contains("on")), `style '${wanted}' not marked as picked`);
  check((await page.$$("#styles button.on")).length === 1, "more than one style marked as picked");
  await page.selectOption("#size", String(FAST_SIZE));
  await page.selectOption("#format", "png");

  await page.click("#paint");
  await page.waitForFunction(() => !$("result").hidden && $("result").complete &&
      $("result").naturalWidth > 0 || $("fast-msg").classList.contains("err"), null, { timeout: 60000 });
  const msg = await page.textContent("#fast-msg");
  check(!(await page.$eval("#fast-msg", (m) => m.classList.contains("err"))), `the page says: ${msg}`);
  const r = await page.evaluate(async () => {
    const img = $("result"), bytes = window.nstLastPicture;
    return { w: img.naturalWidth, h: img.naturalHeight, head: [...bytes.slice(0, 24)],
             length: bytes.length, download: $("download").download, linkHidden: $("download").hidden };
  });
  const head = Buffer.from(r.head);
  check(head.subarray(0, 8).equals(Buffer.from([137, 80, 78, 71, 13, 10, 26, 10])), "the result is not a PNG");
  const [iw, ih] = [head.readUInt32BE(16), head.readUInt32BE(20)];
  check(iw === r.w && ih === r.h, `PNG header ${iw} x ${ih} but the browser decoded ${r.w} x ${r.h}`);
  const long = Math.max(pw, ph), exactShort = (Math.min(pw, ph) * FAST_SIZE) / long;
  check(Math.max(r.w, r.h) === FAST_SIZE && Math.abs(Math.min(r.w, r.h) - exactShort) <= 1 &&
        (r.w >= r.h) === (pw >= ph), `result ${r.w} x ${r.h} for a ${pw} x ${ph} photo at ${FAST_SIZE} px`);
  check(!r.linkHidden && r.download === `nst-${wanted}.png`, `download link: '${r.download}'`);
  const sent = await page.evaluate(() => window.nstSentForms);
  check(sent.length === 1 && sent[0].url === "/api/fast" && sent[0].fields.model === wanted &&
        sent[0].fields.size === String(FAST_SIZE), `the page sent ${JSON.stringify(sent)}`);
  log(`fast: ${wanted} painted ${pw} x ${ph} -> ${r.w} x ${r.h} PNG (${r.length} bytes); page: ${msg}`);
}

async function optimiseTab(page, base, files) {
  await page.click("#tab-opt");
  check(await page.isVisible("#start"), "the Optimise tab does not show");
  await page.setInputFiles("#job-photo", files.photo);
  await page.setInputFiles("#job-painting", files.painting);
  await page.fill("#job-size", "256");
  await page.fill("#job-iterations", "500");  // far more than it runs before Cancel
  const answer = page.waitForResponse((r) => r.url().endsWith("/api/jobs") && r.request().method() === "POST");
  await page.click("#start");
  const resp = await answer;
  check(resp.status() === 202, `POST /api/jobs answered ${resp.status()}: ${await resp.text()}`);
  const id = (await resp.json()).id;
  check(/^[0-9a-f]{32}$/.test(id), `job id '${id}'`);
  // Progress: the bar moves, the line counts iterations, the picture so far shows.
  await page.waitForFunction(() => $("progress").value > 0 && /^running: [1-9]\d* \/ \d+ iterations/
      .test($("job-msg").textContent) && !$("job-image").hidden && $("job-image").complete &&
      $("job-image").naturalWidth > 0, null, { timeout: 60000 });
  const running = await page.textContent("#job-msg");
  check(await page.isEnabled("#cancel") && !(await page.isEnabled("#start")), "Cancel/Start buttons while running");
  log(`job ${id.slice(0, 8)}...: ${running}`);
  await page.click("#cancel");
  await page.waitForFunction(() => !/^(queued|running)/.test($("job-msg").textContent), null, { timeout: 60000 });
  const ended = await page.textContent("#job-msg");
  check(/^cancelled: /.test(ended), `after Cancel the page says '${ended}'`);
  check(!(await page.isEnabled("#cancel")) && await page.isEnabled("#start"), "Cancel/Start buttons after cancel");
  const status = await (await fetch(`${base}/api/jobs/${id}`)).json();
  check(status.state === "cancelled" && status.progress < 1,
        `GET /api/jobs/ID after Cancel: ${JSON.stringify(status)}`);
  log(`job cancelled at ${status.done} / ${status.total} iterations; page: ${ended}`);
}

async function main(state) {
  state.tmp = fs.mkdtempSync(path.join(os.tmpdir(), "nst-browser-"));
  const work = path.join(state.tmp, "work"), profile = path.join(state.tmp, "profile");
  fs.mkdirSync(work);
  fs.mkdirSync(profile);
  const files = photos(state.tmp);
  state.server = startServer(work);
  const base = await state.server.url;
  log(`nst serve at ${base}; photos ${files.photo}, ${files.painting}`);
  state.context = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath, headless: true, viewport: { width: 900, height: 760 },
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  // The text fields of every form the page sends (Chromium gives playwright no
  // multipart body that holds a file) and the bytes of the last fast picture
  // (the page's Content-Security-Policy lets no script fetch its blob: URL).
  await state.context.addInitScript(() => {
    window.nstSentForms = [];
    const send = window.fetch;
    window.fetch = async (url, init) => {
      if (init && init.body instanceof FormData)
        window.nstSentForms.push({ url: String(url), fields: Object.fromEntries(
            [...init.body.entries()].filter(([, v]) => typeof v === "string")) });
      const r = await send(url, init);
      if (String(url) === "/api/fast" && r.ok) window.nstLastPicture = new Uint8Array(await r.clone().arrayBuffer());
      return r;
    };
  });
  const page = state.context.pages()[0] || (await state.context.newPage());
  page.setDefaultTimeout(30000);
  const pageErrors = [];
  page.on("pageerror", (e) => pageErrors.push(String(e)));
  page.on("console", (m) => m.type() === "error" && pageErrors.push(m.text()));
  log(`chromium ${state.context.browser()?.version() ?? ""} started`);

  await fastTab(page, base, files);
  if (screenshot) {
    const bottom = await page.$eval("#result", (i) => i.getBoundingClientRect().bottom + window.scrollY);
    await page.screenshot({ path: screenshot, fullPage: true, clip: { x: 0, y: 0, width: 900, height: bottom + 24 } });
    log(`screenshot: ${screenshot}`);
  }
  await optimiseTab(page, base, files);
  check(pageErrors.length === 0, `errors in the page: ${pageErrors.join("; ")}`);
}

async function cleanUp(state) {
  if (state.context) await state.context.close().catch(() => {});
  let serverExit = null;
  if (state.server) {
    serverExit = await stopServer(state.server);
    log(`nst serve stopped: ${JSON.stringify(serverExit)}`);
  }
  if (state.tmp) fs.rmSync(state.tmp, { recursive: true, force: true });
  return serverExit;
}

const state = {};
// Whatever happens, the server does not outlive this process.
process.on("exit", () => state.server?.child.kill("SIGKILL"));
for (const sig of ["SIGINT", "SIGTERM"])
  process.on(sig, () => cleanUp(state).finally(() => process.exit(1)));

let failure = null;
let watchdog;
try {
  await Promise.race([main(state), new Promise((_, reject) => {
    watchdog = setTimeout(() => reject(new Failure(`not done after ${WATCHDOG_SECONDS} s`)), WATCHDOG_SECONDS * 1000);
  })]);
} catch (e) {
  failure = e;
} finally {
  clearTimeout(watchdog);
}
const serverExit = await cleanUp(state);
if (!failure && serverExit && (serverExit.code !== 0 || serverExit.signal))
  failure = new Failure(`nst serve did not exit 0 on SIGTERM: ${JSON.stringify(serverExit)}`);
if (failure) {
  console.log(`FAILED: browser test: ${failure instanceof Failure ? failure.message : failure.stack}`);
  if (state.server) console.log(`--- nst serve's stderr ---\n${state.server.stderr()}`);
  process.exit(1);
}
log("passed");
process.exit(0);
