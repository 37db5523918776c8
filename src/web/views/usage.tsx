// Usage (a chunk of its own, with uPlot): tokens and cost per day as charts, and tables per
// model, device and agent, for the last 7, 30 or 90 days (GET /api/usage, grouped), plus
// today's totals per device as the feed updates them.
import { useSignal } from '@preact/signals';
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import { getJson } from '../api.js';
import { tokens, usd } from '../format.js';
import { useLoad } from '../load.js';
import type { UsageReport } from '../shared.js';
import { nameOf, usageToday } from '../store.js';
import { theme } from '../theme.js';

const RANGES = [7, 30, 90];

/** The last `n` days up to `last` (YYYY-MM-DD, the server's today in its usage time zone). */
function daysUpTo(last: string, n: number): string[] {
  const end = Date.parse(`${last}T00:00:00Z`);
  return Array.from({ length: n }, (_, i) => new Date(end - (n - 1 - i) * 86_400_000).toISOString().slice(0, 10));
}

function Chart({ title, days, values, format }: { title: string; days: string[]; values: number[]; format: (n: number) => string }) {
  const box = useRef<HTMLDivElement>(null);
  const dark = theme.value === 'dark';
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const stroke = dark ? '#5aa9ff' : '#0b5cad';
    const axis = { stroke: dark ? '#a0a0a8' : '#44444c', grid: { stroke: dark ? '#26262b' : '#e3e3e8' }, ticks: { stroke: dark ? '#26262b' : '#e3e3e8' } };
    const plot = new uPlot(
      {
        width: el.clientWidth || 320,
        height: 180,
        legend: { show: false },
        cursor: { drag: { x: false, y: false } },
        scales: { x: { time: true } },
        axes: [axis, { ...axis, size: 56, values: (_u, splits) => splits.map(format) }],
        series: [{}, { label: title, stroke, fill: `${stroke}33`, width: 2, paths: uPlot.paths.bars!({ size: [0.7, 40] }), points: { show: false } }],
      },
      [days.map((d) => Date.parse(`${d}T12:00:00Z`) / 1000), values],
      el,
    );
    const resize = new ResizeObserver(() => plot.setSize({ width: el.clientWidth || 320, height: 180 }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      plot.destroy();
    };
  }, [days.join(), values.join(), dark]);
  return (
    <figure class="chart">
      <figcaption>{title}</figcaption>
      <div ref={box} role="img" aria-label={`${title}: ${days.length} days, ${format(values.reduce((a, b) => a + b, 0))} in all`} data-testid="chart" />
    </figure>
  );
}

function Table({ caption, rows, label }: { caption: string; rows: UsageReport['rows']; label: (r: UsageReport['rows'][number]) => string }) {
  if (rows.length === 0) return null;
  const sorted = [...rows].sort((a, b) => b.total_tokens - a.total_tokens);
  return (
    <div class="table-wrap">
      <table>
        <caption>{caption}</caption>
        <thead>
          <tr>
            <th scope="col">{caption.replace(/^By /, '')}</th>
            <th scope="col">Tokens</th>
            <th scope="col">Cost</th>
          </tr>
        </thead>
        <tbody>
          {sorted.map((r) => (
            <tr key={label(r)}>
              <th scope="row">{label(r)}</th>
              <td>{tokens(r.total_tokens)}</td>
              <td>{usd(r.cost_usd)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

const field = (r: object, k: string) => String((r as Record<string, unknown>)[k] ?? 'unknown');

export function Usage() {
  const days = useSignal(7);
  const today = usageToday.value;
  const allDays = daysUpTo(today?.day ?? new Date().toISOString().slice(0, 10), days.value);
  const since = allDays[0]!;
  const report = useLoad(async () => {
    const ask = (group_by: string) => getJson<UsageReport>('/api/usage', { group_by, since });
    const [byDay, byModel, byDevice, byInstance] = await Promise.all([ask('day'), ask('model'), ask('device'), ask('instance')]);
    return { byDay, byModel, byDevice, byInstance };
  }, since);
  const r = report.data;
  const perDay = new Map((r?.byDay.rows ?? []).map((row) => [field(row, 'day'), row]));
  return (
    <section aria-labelledby="usage-title">
      <h2 id="usage-title">Usage</h2>
      <div class="row" role="group" aria-label="Range">
        {RANGES.map((n) => (
          <button type="button" key={n} class={days.value === n ? 'current' : 'secondary'} aria-pressed={days.value === n} onClick={() => (days.value = n)}>
            {n} days
          </button>
        ))}
      </div>
      {report.error ? <p role="alert">{report.error}</p> : null}
      {r ? (
        <>
          <p class="big" data-testid="usage-total">
            {tokens(r.byDay.totals.total_tokens)} tokens · {usd(r.byDay.totals.cost_usd)}
          </p>
          <div class="charts">
            <Chart title="Tokens per day" days={allDays} values={allDays.map((d) => perDay.get(d)?.total_tokens ?? 0)} format={tokens} />
            <Chart title="Cost per day" days={allDays} values={allDays.map((d) => perDay.get(d)?.cost_usd ?? 0)} format={usd} />
          </div>
          <div class="tables">
            <Table caption="By model" rows={r.byModel.rows} label={(x) => field(x, 'model')} />
            <Table caption="By device" rows={r.byDevice.rows} label={(x) => field(x, 'device')} />
            <Table caption="By agent" rows={r.byInstance.rows} label={(x) => nameOf(field(x, 'instance')) ?? field(x, 'instance')} />
          </div>
        </>
      ) : (
        <p aria-busy="true">Loading…</p>
      )}
      {today ? (
        <>
          <h3>Today ({today.timezone})</h3>
          <ul class="rows">
            {Object.entries(today.devices).map(([device, t]) => (
              <li key={device}>
                <strong>{device}</strong> {tokens(t.total_tokens)} tokens · {usd(t.cost_usd)}
              </li>
            ))}
          </ul>
        </>
      ) : null}
    </section>
  );
}
