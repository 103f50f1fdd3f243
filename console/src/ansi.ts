import { h } from "./dom.js";

/**
 * Console output as a terminal shows it: SGR colour codes (ESC [ … m) become spans with classes; any
 * other escape sequence is dropped. The text stays text nodes (never markup).
 */

// eslint-disable-next-line no-control-regex
const ESCAPE = /\u001b\[([0-9;]*)([A-Za-z])|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)|\u001b[@-Z\\-_]/g;

interface Style {
  fg?: number;
  bg?: number;
  bold?: boolean;
  underline?: boolean;
}

function applySgr(style: Style, params: string): Style {
  const codes = params === "" ? [0] : params.split(";").map(Number);
  let next: Style = { ...style };
  for (const code of codes) {
    if (code === 0) next = {};
    else if (code === 1) next.bold = true;
    else if (code === 4) next.underline = true;
    else if (code === 22) delete next.bold;
    else if (code === 24) delete next.underline;
    else if ((code >= 30 && code <= 37) || (code >= 90 && code <= 97)) next.fg = code;
    else if (code === 39) delete next.fg;
    else if ((code >= 40 && code <= 47) || (code >= 100 && code <= 107)) next.bg = code;
    else if (code === 49) delete next.bg;
  }
  return next;
}

function classes(style: Style): string {
  const list: string[] = [];
  if (style.fg !== undefined) list.push(`ansi-fg-${style.fg}`);
  if (style.bg !== undefined) list.push(`ansi-bg-${style.bg}`);
  if (style.bold === true) list.push("ansi-bold");
  if (style.underline === true) list.push("ansi-underline");
  return list.join(" ");
}

/** A <pre> of the text with its colours. */
export function ansiBlock(text: string, label: string): HTMLElement {
  const pre = h("pre", { class: "terminal", "aria-label": label, tabindex: 0 });
  let style: Style = {};
  let last = 0;
  const push = (piece: string) => {
    if (piece === "") return;
    const cls = classes(style);
    pre.appendChild(cls === "" ? document.createTextNode(piece) : h("span", { class: cls }, piece));
  };
  for (const match of text.matchAll(ESCAPE)) {
    push(text.slice(last, match.index));
    last = (match.index ?? 0) + match[0].length;
    if (match[2] === "m") style = applySgr(style, match[1] ?? "");
  }
  push(text.slice(last));
  return pre;
}
