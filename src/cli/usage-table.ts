// Usage reports as terminal tables, in the manner of the usage tools people already know:
// one row per day (month, session, device, instance), token columns with thousands
// separators, cost in USD, a total row, and a note naming models that have no price. A table
// fits its width (100 columns by default): when the full numbers do not fit, tokens are
// shortened (12.3M) and titles too, then text columns (models, projects) are cut with "…".
import { compactNumber } from '../lib/format.js';
import type { UsageReport, UsageRow } from '../usage/report.js';

export interface Column {
  title: string;
  align: 'left' | 'right';
  cell(row: UsageRow): string;
  /** The title when space is short. */
  short?: string;
  /** The cell when space is short (tokens as 12.3M). */
  compact?(row: UsageRow): string;
  /** A text column that may be cut to this width with "…" (ids, models, projects). */
  minWidth?: number;
  /** Cut the start rather than the end (a path's last part says more). */
  cutStart?: boolean;
  /** Left out when the table does not fit even cut (the models of each row). */
  droppable?: boolean;
}

const num = (n: number) => n.toLocaleString('en-US');
const usd = (row: UsageRow) => `$${row.cost_usd.toFixed(2)}${row.unpriced_models.length > 0 ? '*' : ''}`;

/** "claude-sonnet-4-5-20250929" -> "sonnet-4-5" */
export function shortModel(model: string): string {
  return model.replace(/^claude-/, '').replace(/-\d{8}$/, '');
}

const tokenColumn = (title: string, short: string, pick: (r: UsageRow) => number): Column => ({
  title,
  short,
  align: 'right',
  cell: (r) => num(pick(r)),
  compact: (r) => compactNumber(pick(r)),
});

export const TOKEN_COLUMNS: Column[] = [
  tokenColumn('Input', 'Input', (r) => r.input_tokens),
  tokenColumn('Output', 'Output', (r) => r.output_tokens),
  tokenColumn('Cache Create', 'Cache W', (r) => r.cache_creation_tokens),
  tokenColumn('Cache Read', 'Cache R', (r) => r.cache_read_tokens),
  tokenColumn('Total Tokens', 'Total', (r) => r.total_tokens),
  { title: 'Cost (USD)', short: 'Cost', align: 'right', cell: usd },
];

export const modelsColumn: Column = { title: 'Models', align: 'left', cell: (r) => r.models.map(shortModel).join(', '), minWidth: 10, droppable: true };

function fit(text: string, width: number, fromStart = false): string {
  const chars = Array.from(text);
  if (chars.length <= width) return text;
  return fromStart ? `…${chars.slice(chars.length - Math.max(0, width - 1)).join('')}` : `${chars.slice(0, Math.max(0, width - 1)).join('')}…`;
}

function pad(text: string, width: number, align: 'left' | 'right'): string {
  const gap = ' '.repeat(Math.max(0, width - Array.from(text).length));
  return align === 'left' ? text + gap : gap + text;
}

const lengthOf = (s: string) => Array.from(s).length;

/** Renders rows (plus a total row) as a boxed table at most `maxWidth` characters wide where it can be. */
export function renderTable(title: string, all: Column[], rows: UsageRow[], total: UsageRow | null, maxWidth = 100): string {
  const kept = fitColumns(all, rows, total, maxWidth);
  return draw(title, kept.columns, kept.t);
}

interface Laid {
  titles: string[];
  body: string[][];
  foot: string[] | null;
  widths: number[];
}

/**
 * Full numbers if they fit; else short numbers with the models cut; else the models left out
 * and the other text columns (ids, names, projects) cut.
 */
function fitColumns(all: Column[], rows: UsageRow[], total: UsageRow | null, maxWidth: number): { columns: Column[]; t: Laid } {
  const withModels = layoutOf(all, rows, total, maxWidth, (c) => c.droppable === true);
  const without = all.filter((c) => !c.droppable);
  if (overallOf(withModels.widths) <= maxWidth || without.length === all.length) return { columns: all, t: withModels };
  return { columns: without, t: layoutOf(without, rows, total, maxWidth, () => true) };
}

const overallOf = (widths: number[]) => widths.reduce((n, w) => n + w, 0) + 3 * (widths.length - 1) + 4;

function layoutOf(columns: Column[], rows: UsageRow[], total: UsageRow | null, maxWidth: number, cuttable: (c: Column) => boolean): Laid {
  const layout = (compact: boolean): Laid => {
    const titles = columns.map((c) => (compact ? (c.short ?? c.title) : c.title));
    const cellOf = (c: Column, r: UsageRow) => (compact && c.compact ? c.compact(r) : c.cell(r));
    const body = rows.map((r) => columns.map((c) => cellOf(c, r)));
    const foot = total ? columns.map((c, i) => (i === 0 ? 'Total' : c === modelsColumn ? '' : cellOf(c, total))) : null;
    const widths = columns.map((_, i) => Math.max(lengthOf(titles[i]!), ...body.map((r) => lengthOf(r[i]!)), foot ? lengthOf(foot[i]!) : 0));
    return { titles, body, foot, widths };
  };
  let t = layout(false);
  if (overallOf(t.widths) > maxWidth) t = layout(true);
  // Still too wide: cut the text columns that may be cut, the widest first.
  for (let over = overallOf(t.widths) - maxWidth; over > 0; over -= 1) {
    let widest = -1;
    columns.forEach((c, i) => {
      if (c.minWidth !== undefined && cuttable(c) && t.widths[i]! > Math.max(c.minWidth, lengthOf(t.titles[i]!)) && (widest < 0 || t.widths[i]! > t.widths[widest]!)) widest = i;
    });
    if (widest < 0) break;
    t.widths[widest]! -= 1;
  }
  return t;
}

function draw(title: string, columns: Column[], t: Laid): string {
  const { titles, body, foot, widths } = t;
  const line = (l: string, m: string, r: string) => l + widths.map((w) => '─'.repeat(w + 2)).join(m) + r;
  const row = (cells: string[]) => `│ ${cells.map((c, i) => pad(fit(c, widths[i]!, columns[i]!.cutStart), widths[i]!, columns[i]!.align)).join(' │ ')} │`;
  const out = [title, line('┌', '┬', '┐'), row(titles), line('├', '┼', '┤')];
  for (const r of body) out.push(row(r));
  if (foot) {
    out.push(line('├', '┼', '┤'));
    out.push(row(foot));
  }
  out.push(line('└', '┴', '┘'));
  return out.join('\n');
}

/** Text wrapped at `width` columns, at spaces. */
export function wrap(text: string, width = 100): string {
  const out: string[] = [];
  let lineText = '';
  for (const word of text.split(' ')) {
    if (lineText && lengthOf(lineText) + 1 + lengthOf(word) > width) {
      out.push(lineText);
      lineText = word;
    } else lineText = lineText ? `${lineText} ${word}` : word;
  }
  if (lineText) out.push(lineText);
  return out.join('\n');
}

/** The note under a table when some models have no price. */
export function unpricedNote(report: UsageReport): string {
  const models = report.totals.unpriced_models;
  if (models.length === 0) return '';
  return wrap(`* tokens of ${models.join(', ')} are counted, but ${models.length === 1 ? 'it has' : 'they have'} no price: the cost leaves ${models.length === 1 ? 'it' : 'them'} out (add prices with usage_pricing in the config file).`);
}
