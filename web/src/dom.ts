/** A few DOM helpers: elements from a tag, attributes and children; text made safe by the DOM. */

export type Child = Node | string | number | null | undefined | false;
type Attributes = Record<string, string | number | boolean | undefined>;

/** An element with attributes (`true`: present, `false`/`undefined`: absent) and children. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Attributes = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === false) continue;
    element.setAttribute(name, value === true ? '' : String(value));
  }
  element.append(...nodes(children));
  return element;
}

function nodes(children: readonly Child[]): (Node | string)[] {
  return children.flatMap((child) =>
    child === null || child === undefined || child === false
      ? []
      : typeof child === 'number'
        ? [String(child)]
        : [child],
  );
}

/** Replaces an element's children. */
export function fill(element: Element, ...children: Child[]): void {
  element.replaceChildren(...nodes(children));
}

/** A section with a heading that labels it. */
export function panel(id: string, title: string, ...children: Child[]): HTMLElement {
  return h(
    'section',
    { class: 'panel', id, 'aria-labelledby': `${id}-title` },
    h('h2', { id: `${id}-title` }, title),
    ...children,
  );
}

/** A table with a caption, a header row and a body to fill. */
export function table(
  caption: string,
  headers: readonly string[],
  numeric: readonly number[] = [],
) {
  const body = h('tbody');
  const element = h(
    'table',
    {},
    h('caption', { class: 'visually-hidden' }, caption),
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        ...headers.map((text, i) =>
          h('th', { scope: 'col', class: numeric.includes(i) ? 'num' : undefined }, text),
        ),
      ),
    ),
    body,
  );
  return { element: h('div', { class: 'table-wrap' }, element), body };
}

/** A row of cells; a number in `numeric` right-aligns its cell. */
export function row(cells: readonly Child[], numeric: readonly number[] = [], header = 0) {
  return h(
    'tr',
    {},
    ...cells.map((cell, i) =>
      i < header
        ? h('th', { scope: 'row' }, cell)
        : h('td', { class: numeric.includes(i) ? 'num' : undefined }, cell),
    ),
  );
}

/** Runs `task` at most once per `ms`, the last call always honoured. */
export function throttle(task: () => void, ms: number): () => void {
  let timer: ReturnType<typeof setTimeout> | null = null;
  let last = 0;
  return () => {
    if (timer !== null) return;
    const wait = Math.max(0, last + ms - Date.now());
    timer = setTimeout(() => {
      timer = null;
      last = Date.now();
      task();
    }, wait);
  };
}
