import { EditorView, basicSetup } from "codemirror";
import { javascript } from "@codemirror/lang-javascript";
import { EditorState } from "@codemirror/state";
import { Decoration } from "@codemirror/view";

/**
 * A CodeMirror 6 editor for a submission's source (JavaScript or TypeScript), served from the bundle
 * built from the installed packages. Lines the feedback names are marked (class cm-error-line).
 */
export function sourceEditor(parent: HTMLElement, text: string, options: { label: string; readOnly?: boolean; errorLines?: Set<number> }): EditorView {
  const state = EditorState.create({ doc: text });
  const marks = [...(options.errorLines ?? [])]
    .filter((line) => line >= 1 && line <= state.doc.lines)
    .sort((a, b) => a - b)
    .map((line) => Decoration.line({ class: "cm-error-line", attributes: { "data-error-line": String(line) } }).range(state.doc.line(line).from));
  return new EditorView({
    parent,
    doc: text,
    extensions: [
      basicSetup,
      javascript({ typescript: true }),
      EditorView.contentAttributes.of({ "aria-label": options.label }),
      EditorState.readOnly.of(options.readOnly === true),
      EditorView.editable.of(options.readOnly !== true),
      EditorView.decorations.of(Decoration.set(marks)),
      EditorView.lineWrapping,
    ],
  });
}
