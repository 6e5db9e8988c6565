/// <reference lib="dom" />
// Hand-drawn SVG charts (no library): sparklines for the stat tiles and one line chart. Samples are
// spread over the full width, oldest at the left, newest ("now") at the right.
import { svg } from "./dom.ts";

/** A series of the line chart. */
export interface Series {
  label: string;
  values: number[];
  /** CSS class giving the stroke colour (see styles.css). */
  className: string;
}

function points(values: number[], w: number, h: number, max: number, pad: number): string {
  const step = values.length > 1 ? w / (values.length - 1) : 0;
  return values.map((v, i) => `${(i * step).toFixed(1)},${(h - pad - (v / max) * (h - 2 * pad)).toFixed(1)}`).join(" ");
}

/** A sparkline that stretches to its box (the stroke keeps its width). */
export function sparkline(values: number[], className: string): SVGSVGElement {
  const w = 100;
  const h = 30;
  // Headroom above the peak so a flat series does not stick to the top edge.
  const max = Math.max(1, ...values) * 1.15;
  const el = svg("svg", { class: `spark ${className}`, viewBox: `0 0 ${w} ${h}`, preserveAspectRatio: "none", "aria-hidden": "true" });
  if (values.length >= 2) {
    const line = points(values, w, h, max, 1);
    el.append(
      svg("polygon", { class: "area", points: `0,${h} ${line} ${w},${h}` }),
      svg("polyline", { class: "line", points: line, "vector-effect": "non-scaling-stroke" }),
    );
  }
  return el;
}

// The axis top: four equal steps of 1, 2, 2.5 or 5 times a power of ten.
function niceMax(v: number): number {
  const raw = Math.max(v, 0.04) / 4;
  const p = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * p).find((x) => x >= raw) ?? 10 * p;
  return Math.max(1, 4 * step);
}

function formatTick(v: number): string {
  if (v >= 1000) return `${Number((v / 1000).toFixed(1))}k`;
  return String(Number(v.toFixed(2)));
}

/** A line chart `width` pixels wide with a shared y axis and gridlines; `spanLabel` names the oldest sample's age. */
export function lineChart(series: Series[], width: number, spanLabel: string): SVGSVGElement {
  const W = Math.max(320, Math.round(width));
  const H = 170;
  const left = 40;
  const right = 10;
  const top = 10;
  const bottom = 24;
  const w = W - left - right;
  const h = H - top - bottom;
  const max = niceMax(Math.max(0, ...series.flatMap((s) => s.values)) * 1.1);
  const el = svg("svg", { class: "chart", viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": series.map((s) => `${s.label}: ${s.values.at(-1) ?? 0}`).join(", ") });
  for (let i = 0; i <= 4; i++) {
    const y = top + (h * i) / 4;
    el.append(
      svg("line", { class: "grid", x1: left, x2: W - right, y1: y, y2: y }),
      svg("text", { class: "axis", x: left - 6, y: y + 4, "text-anchor": "end" }, formatTick(max * (1 - i / 4))),
    );
  }
  el.append(
    svg("text", { class: "axis", x: left, y: H - 6 }, spanLabel),
    svg("text", { class: "axis", x: W - right, y: H - 6, "text-anchor": "end" }, "now"),
  );
  const plot = svg("g", { transform: `translate(${left},${top})` });
  for (const s of series) {
    if (s.values.length < 2) continue;
    plot.append(svg("polyline", { class: `series ${s.className}`, points: points(s.values, w, h, max, 0) }));
  }
  el.append(plot);
  return el;
}
