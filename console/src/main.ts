import { assignmentPage } from "./assignment.js";
import { assignmentsPage } from "./assignments.js";
import { errorBox, h } from "./dom.js";
import { previewPage } from "./preview.js";
import { submissionPage } from "./submission.js";
import { tryPage } from "./try.js";

/** Every console page is the same shell; the path says which page to build. */
const routes: Array<[RegExp, (main: HTMLElement, ...params: string[]) => Promise<void>]> = [
  [/^\/console\/?$/, assignmentsPage],
  [/^\/console\/assignments\/([^/]+)\/try$/, tryPage],
  [/^\/console\/assignments\/([^/]+)\/preview$/, previewPage],
  [/^\/console\/assignments\/([^/]+)$/, assignmentPage],
  [/^\/console\/submissions\/([^/]+)$/, submissionPage],
];

async function start(): Promise<void> {
  const main = document.getElementById("main")!;
  const path = window.location.pathname;
  for (const [pattern, page] of routes) {
    const match = pattern.exec(path);
    if (match === null) continue;
    try {
      await page(main, ...match.slice(1).map(decodeURIComponent));
      main.setAttribute("data-ready", "true");
    } catch (error) {
      main.replaceChildren(h("h1", {}, "Something went wrong"), errorBox(error));
      main.setAttribute("data-ready", "error");
    }
    return;
  }
  main.replaceChildren(h("h1", {}, "No such page"), h("p", {}, h("a", { href: "/console" }, "Back to the assignments")));
  main.setAttribute("data-ready", "error");
}

void start();
