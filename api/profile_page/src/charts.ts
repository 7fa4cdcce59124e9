// The two per-year charts: Chart.js bars, with the same figures in a table beside each chart
// for screen readers, for copying, and for the browser tests that compare them with the API.
import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  LinearScale,
  Tooltip,
} from "chart.js";

import { formatNumber, h } from "./dom";

Chart.register(BarController, BarElement, CategoryScale, LinearScale, Tooltip);

export interface YearCount {
  year: number;
  count: number;
}

/** Every year from the first to the last, with 0 where the API lists none. */
export function everyYear(counts: readonly YearCount[]): YearCount[] {
  if (counts.length === 0) {
    return [];
  }
  const byYear = new Map(counts.map(({ year, count }) => [year, count]));
  const years = counts.map(({ year }) => year);
  const first = Math.min(...years);
  const last = Math.max(...years);
  const filled: YearCount[] = [];
  for (let year = first; year <= last; year += 1) {
    filled.push({ year, count: byYear.get(year) ?? 0 });
  }
  return filled;
}

export interface ChartSpec {
  id: string;
  title: string;
  unit: string;
  counts: readonly YearCount[];
  empty: string;
  color: string;
}

export function yearChart(spec: ChartSpec): HTMLElement {
  const series = everyYear(spec.counts);
  const headingId = `${spec.id}-title`;
  const figure = h(
    "section",
    { class: "chart", id: spec.id, "aria-labelledby": headingId, "data-chart": spec.id },
    h("h2", { id: headingId }, spec.title),
  );
  if (series.length === 0) {
    figure.append(h("p", { class: "empty", "data-empty": "" }, spec.empty));
    return figure;
  }
  const total = series.reduce((sum, { count }) => sum + count, 0);
  const first = series[0]?.year;
  const last = series[series.length - 1]?.year;
  const canvas = h("canvas", {
    role: "img",
    "aria-label": `${spec.title}, ${first} to ${last}: ${formatNumber(total)} ${spec.unit} in all. The figures are in the table below.`,
  }) as HTMLCanvasElement;
  figure.append(h("div", { class: "chart-area" }, canvas), figureTable(spec, series));
  // Drawn once the canvas is in the page, so that Chart.js can measure its box.
  queueMicrotask(() => drawBars(canvas, spec, series));
  return figure;
}

function figureTable(spec: ChartSpec, series: readonly YearCount[]): HTMLElement {
  const rows = series.map(({ year, count }) =>
    h("tr", { "data-year": year, "data-count": count }, h("th", { scope: "row" }, year), h("td", {}, formatNumber(count))),
  );
  return h(
    "details",
    { class: "figures" },
    h("summary", {}, `The figures (${series.length} years)`),
    h(
      "table",
      {},
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Year"), h("th", { scope: "col" }, spec.unit))),
      h("tbody", {}, ...rows),
    ),
  );
}

function drawBars(canvas: HTMLCanvasElement, spec: ChartSpec, series: readonly YearCount[]): void {
  new Chart(canvas, {
    type: "bar",
    data: {
      labels: series.map(({ year }) => String(year)),
      datasets: [
        {
          label: spec.unit,
          data: series.map(({ count }) => count),
          backgroundColor: spec.color,
          borderRadius: 2,
        },
      ],
    },
    options: {
      animation: false,
      maintainAspectRatio: false,
      responsive: true,
      scales: {
        x: { grid: { display: false }, ticks: { autoSkipPadding: 8, maxRotation: 0 } },
        y: { beginAtZero: true, ticks: { precision: 0 } },
      },
      plugins: { tooltip: { intersect: false, mode: "index" } },
    },
  });
}
