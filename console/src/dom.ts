/**
 * Building the page with DOM nodes, never innerHTML: everything shown comes from submissions and packs
 * (students' text, case descriptions), so it is text, not markup.
 */

type Child = Node | string | number | null | undefined | false;
type Attrs = Record<string, string | number | boolean | undefined | ((event: Event) => void)>;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) continue;
    if (typeof value === "function") element.addEventListener(name.replace(/^on/, ""), value);
    else if (value === true) element.setAttribute(name, "");
    else element.setAttribute(name, String(value));
  }
  append(element, ...children);
  return element;
}

export function append(parent: Node, ...children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    parent.appendChild(typeof child === "object" ? child : document.createTextNode(String(child)));
  }
}

/** A table with a caption and column headers, scrollable on a narrow screen. */
export function table(caption: string, headers: string[], rows: Child[][], attrs: Attrs = {}): HTMLElement {
  return h("div", { class: "table-wrap", role: "region", "aria-label": caption, tabindex: 0 },
    h("table", attrs,
      h("caption", {}, caption),
      h("thead", {}, h("tr", {}, ...headers.map((name) => h("th", { scope: "col" }, name)))),
      h("tbody", {}, ...rows.map((cells) => h("tr", {}, ...cells.map((cell, i) => (i === 0 ? h("th", { scope: "row" }, cell) : h("td", {}, cell))))))));
}

export function section(title: string, id: string, ...children: Child[]): HTMLElement {
  return h("section", { "aria-labelledby": `${id}-title`, id }, h("h2", { id: `${id}-title` }, title), ...children);
}

export function errorBox(error: unknown): HTMLElement {
  const failure = error as { status?: number; code?: string; message?: string };
  const text = failure.code !== undefined ? `${failure.status ?? ""} ${failure.code}: ${failure.message ?? ""}` : String(error);
  return h("p", { class: "error", role: "alert" }, text);
}

export function json(value: unknown): string {
  return JSON.stringify(value, null, 1).replace(/\n\s*/g, " ");
}
