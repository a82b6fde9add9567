// Element sizes and visibility without forced layouts. Reading clientWidth right after writing
// to the DOM makes the browser lay the page out there and then, once per frame; a ResizeObserver
// reports sizes after the browser's own layout instead. sizeOf(el) reads an element's box once
// (the first time) and from then on answers from the observer's reports; onResize(fn) is told
// when a watched element's size has changed, so it can be drawn again at the new size.

const sizes = new WeakMap();
const listeners = [];

const observer = typeof ResizeObserver === "function" ? new ResizeObserver((entries) => {
  const changed = [];
  for (const e of entries) {
    const box = e.contentBoxSize?.[0];
    const w = box ? box.inlineSize : e.contentRect.width;
    const h = box ? box.blockSize : e.contentRect.height;
    const old = sizes.get(e.target);
    if (!old || Math.abs(old.w - w) > 0.5 || Math.abs(old.h - h) > 0.5) changed.push(e.target);
    sizes.set(e.target, { w, h });
  }
  if (changed.length) for (const fn of listeners) fn(changed);
}) : null;

// {w, h} in CSS pixels: the element's content box (a canvas's box without its border).
export function sizeOf(el) {
  let s = sizes.get(el);
  if (!s) {
    s = { w: el.clientWidth, h: el.clientHeight };
    sizes.set(el, s);
    observer?.observe(el);
  }
  if (!observer) s = { w: el.clientWidth, h: el.clientHeight };
  return s;
}

export function onResize(fn) { listeners.push(fn); }

// Is some of the element in the window? An IntersectionObserver keeps the answer (true until
// it first reports, so that nothing is left undrawn). onVisible(els, fn): fn() when one of els
// comes into sight.
const visible = new WeakMap();
const visibleListeners = [];
const seen = typeof IntersectionObserver === "function" ? new IntersectionObserver((entries) => {
  let appeared = false;
  for (const e of entries) {
    if (e.isIntersecting && visible.get(e.target) === false) appeared = true;
    visible.set(e.target, e.isIntersecting);
  }
  if (appeared) for (const fn of visibleListeners) fn();
}) : null;

export function isVisible(el) { return visible.get(el) ?? true; }

export function onVisible(els, fn) {
  for (const el of els) if (el) seen?.observe(el);
  visibleListeners.push(fn);
}
