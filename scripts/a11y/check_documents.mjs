// Check the published documents as readers meet them, in the system Chromium:
//  - axe-core with the WCAG 2.0/2.1/2.2 A and AA rules and best practice (fails on any violation
//    of serious or critical impact, and lists every violation);
//  - screenshots at 1280 and 375 px wide, to look at;
//  - an A4 PDF of each document, whose text must hold every column header of every table.
//
// Usage (from the project folder, after a run):
//   cd scripts/a11y && npm ci && cd ../.. && node scripts/a11y/check_documents.mjs outputs/<run>
// Needs Debian's chromium (apt-get install chromium) and pdftotext (apt-get install poppler-utils).
// Writes screenshots and PDFs to <run>/../<run>-checks/ and exits 1 if any check fails.

import { chromium } from "playwright-core";
import { execFileSync } from "node:child_process";
import { readFileSync, mkdirSync, readdirSync, existsSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";

const require = createRequire(import.meta.url);
const axeSource = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");
const folder = path.resolve(process.argv[2] || "outputs/south-gloucestershire-2020-12");
const out = `${folder}-checks`;
mkdirSync(out, { recursive: true });
const executablePath = process.env.CHROMIUM || "/usr/bin/chromium";
const documents = readdirSync(folder).filter((name) => name.endsWith(".html"));
if (!documents.length) {
  console.error(`No published documents (*.html) in ${folder}: run the assessment first.`);
  process.exit(1);
}

const browser = await chromium.launch({ executablePath, args: ["--no-sandbox"] });
let failed = false;
for (const name of documents) {
  const url = "file://" + path.join(folder, name);
  const stem = name.replace(/\.html$/, "");
  for (const width of [1280, 375]) {
    // The documents' Content-Security-Policy forbids scripts; the checker's own (axe-core) is let in.
    const page = await browser.newPage({ viewport: { width, height: 900 }, bypassCSP: true });
    await page.goto(url);
    await page.addScriptTag({ content: axeSource });
    const results = await page.evaluate(async () =>
      // eslint-disable-next-line no-undef
      await axe.run(document, {
        runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"] },
      }),
    );
    const serious = results.violations.filter((v) => ["serious", "critical"].includes(v.impact));
    console.log(`${name} at ${width} px: ${results.violations.length} axe violation(s), ${serious.length} serious or critical; ${results.passes.length} rules passed`);
    for (const v of results.violations) {
      console.log(`  - [${v.impact}] ${v.id}: ${v.help} (${v.nodes.length} element(s)), e.g. ${v.nodes[0].target.join(" ")}`);
    }
    if (results.violations.length) failed = true;
    await page.screenshot({ path: path.join(out, `${stem}-${width}.png`), fullPage: true });
    const stops = await page.evaluate(() =>
      Array.from(document.querySelectorAll(".table-wrap[tabindex]")).map((w) => w.scrollWidth > w.clientWidth),
    );
    console.log(`  table regions that are tab stops: ${stops.length}, of which ${stops.filter(Boolean).length} scroll at ${width} px`);
    if (width === 375) {
      // Chart text as it appears on a phone: the smallest rendered font in CSS px is not measurable
      // inside a bitmap, so report each chart's displayed width against the width it was drawn for.
      const charts = await page.evaluate(() =>
        Array.from(document.querySelectorAll("figure img")).map((img) => ({
          shown: Math.round(img.getBoundingClientRect().width),
          drawn: img.naturalWidth,
          src: img.currentSrc.length,
        })),
      );
      const scales = charts.map((c) => c.shown / c.drawn);
      if (charts.length) {
        console.log(`  charts at 375 px: ${charts.length}, shown at ${Math.round(100 * Math.min(...scales))}% to ${Math.round(100 * Math.max(...scales))}% of the size drawn`);
      }
    }
    await page.close();
  }
  // WCAG 1.4.12 text spacing at 320 px: nothing but a table's own scrolling region may overflow.
  {
    const page = await browser.newPage({ viewport: { width: 320, height: 900 }, bypassCSP: true });
    await page.goto(url);
    await page.addStyleTag({
      content: "* { line-height: 1.5 !important; letter-spacing: 0.12em !important; word-spacing: 0.16em !important; } p { margin-bottom: 2em !important; }",
    });
    const overflowing = await page.evaluate(() =>
      Array.from(document.querySelectorAll("h1, h2, h3, p, li, dd, figcaption, nav, .note, .sample"))
        .filter((e) => !e.closest(".table-wrap") && e.scrollWidth > e.clientWidth + 1)
        .map((e) => `${e.tagName.toLowerCase()}${e.className ? "." + e.className : ""} by ${e.scrollWidth - e.clientWidth} px`),
    );
    console.log(`${name} at 320 px with WCAG text spacing: ${overflowing.length} element(s) overflow`);
    for (const o of overflowing.slice(0, 10)) console.log(`  - ${o}`);
    if (overflowing.length) failed = true;
    await page.close();
  }
  // A4 print: every column header of every table must be in the PDF's text.
  const page = await browser.newPage();
  await page.goto(url);
  await page.emulateMedia({ media: "print" });
  const pdf = path.join(out, `${stem}-A4.pdf`);
  await page.pdf({ path: pdf, format: "A4", printBackground: true, displayHeaderFooter: false, preferCSSPageSize: true });
  const headers = await page.evaluate(() =>
    Array.from(document.querySelectorAll("table thead th")).map((th) => th.textContent.trim()).filter(Boolean),
  );
  await page.close();
  const text = execFileSync("pdftotext", ["-layout", pdf, "-"]).toString().replace(/\s+/g, " ");
  // Words, split after hyphens too: "(Holm-adjusted)" may print as "(Holm-" and "adjusted)" on two lines.
  const words = (s) => s.replace(/-/g, "- ").replace(/\s+/g, " ").split(" ").filter(Boolean);
  // A header may wrap over lines in print: every one of its words must appear, in order, nearby.
  const missing = headers.filter((h) => {
    const ws = words(h);
    let at = 0;
    for (const w of ws) {
      const found = text.indexOf(w, at);
      if (found < 0) return true;
      at = found + w.length;
    }
    return false;
  });
  const pages = execFileSync("pdfinfo", [pdf]).toString().match(/Pages:\s+(\d+)/)[1];
  console.log(`${name} printed on A4: ${pages} pages, ${headers.length} column headers, ${missing.length} missing from the PDF text`);
  for (const h of missing.slice(0, 20)) console.log(`  - missing: ${h}`);
  if (missing.length) failed = true;
  // No page less than a third full unless a section ends there (the next page starts with a
  // section heading, h1 or h2): text extent per page from pdftotext's word boxes, between the
  // running head and foot. A page holding only a chart counts by its caption.
  const sections = await (async () => {
    const p = await browser.newPage();
    await p.goto(url);
    const found = await p.evaluate(() => Array.from(document.querySelectorAll("main h1, main h2")).map((h) => h.textContent.trim()));
    await p.close();
    return found;
  })();
  const boxes = execFileSync("pdftotext", ["-bbox", pdf, "-"], { maxBuffer: 256 * 1024 * 1024 }).toString();
  const pageBlocks = boxes.split("<page ").slice(1);
  const sparse = [];
  pageBlocks.forEach((block, i) => {
    const height = Number(block.match(/height="([\d.]+)"/)[1]);
    const words = [...block.matchAll(/yMin="([\d.]+)" xMax="[\d.]+" yMax="([\d.]+)">([^<]*)</g)]
      .map((m) => ({ top: Number(m[1]), bottom: Number(m[2]), text: m[3] }))
      .filter((w) => w.top > 0.06 * height && w.bottom < 0.94 * height);
    if (!words.length || i === pageBlocks.length - 1) return;
    const used = (Math.max(...words.map((w) => w.bottom)) - 0.06 * height) / (0.88 * height);
    const next = pageBlocks[i + 1];
    const nextHeight = Number(next.match(/height="([\d.]+)"/)[1]);  // a landscape page is shorter
    const nextWords = [...next.matchAll(/yMin="([\d.]+)" xMax="[\d.]+" yMax="[\d.]+">([^<]*)</g)]
      .filter((m) => Number(m[1]) > 0.06 * nextHeight).map((m) => m[2].replace(/&amp;/g, "&").replace(/&#39;|&apos;/g, "'"));
    const opening = nextWords.slice(0, 12).join(" ");
    const sectionEnds = sections.some((h) => opening.startsWith(h.split(" ").slice(0, 4).join(" ")));
    if (used < 1 / 3 && !sectionEnds) sparse.push(`page ${i + 1} (${Math.round(100 * used)}% full)`);
  });
  console.log(`${name}: ${sparse.length} page(s) less than a third full mid-section${sparse.length ? ": " + sparse.join(", ") : ""}`);
  if (sparse.length) failed = true;
  // The strategic assessment is a committee paper: its body prints to at most 20 A4 pages (the
  // technical annex is a document of its own) and its first two pages are the executive summary,
  // with the priorities and the recommendations.
  if (name === "strategic-assessment.html") {
    const opening = execFileSync("pdftotext", ["-f", "1", "-l", "2", pdf, "-"]).toString();
    const lacking = ["Executive summary", "Priorities", "Recommendations"].filter((h) => !opening.includes(h));
    // ... and the summary ends there: the next section starts by the top of page 3.
    const third = execFileSync("pdftotext", ["-f", "3", "-l", "3", pdf, "-"]).toString().split("\n")
      .map((l) => l.trim()).filter(Boolean);
    const ends = opening.includes("About this assessment") || third.slice(0, 4).some((l) => l.startsWith("About this assessment"));
    console.log(`${name}: ${pages} of at most 20 A4 pages; first two pages lack: ${lacking.join(", ") || "nothing"}; `
      + `the executive summary ${ends ? "ends" : "does not end"} within them`);
    if (Number(pages) > 20 || lacking.length || !ends) failed = true;
  }
}
await browser.close();
console.log(failed ? "Some checks failed." : "Every check passed.");
process.exit(failed ? 1 : 0);
