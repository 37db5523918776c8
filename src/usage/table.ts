// Usage reports as terminal tables, in the manner of the usage tools people already know:
// one row per day (month, session, device, instance), token columns with thousands
// separators, cost in USD, a total row, and a note naming models that have no price.
import type { UsageReport, UsageRow } from './report.js';

export interface Column {
  title: string;
  align: 'left' | 'right';
  cell(row: UsageRow): string;
}

const num = (n: number) => n.toLocaleString('en-US');
const usd = (row: UsageRow) => `$${row.cost_usd.toFixed(2)}${row.unpriced_models.length > 0 ? '*' : ''}`;

/** "claude-sonnet-4-5-20250929" -> "sonnet-4-5" */
export function shortModel(model: string): string {
  return model.replace(/^claude-/, '').replace(/-\d{8}$/, '');
}

export const TOKEN_COLUMNS: Column[] = [
  { title: 'Input', align: 'right', cell: (r) => num(r.input_tokens) },
  { title: 'Output', align: 'right', cell: (r) => num(r.output_tokens) },
  { title: 'Cache Create', align: 'right', cell: (r) => num(r.cache_creation_tokens) },
  { title: 'Cache Read', align: 'right', cell: (r) => num(r.cache_read_tokens) },
  { title: 'Total Tokens', align: 'right', cell: (r) => num(r.total_tokens) },
  { title: 'Cost (USD)', align: 'right', cell: usd },
];

export const modelsColumn: Column = { title: 'Models', align: 'left', cell: (r) => r.models.map(shortModel).join(', ') };

function pad(text: string, width: number, align: 'left' | 'right'): string {
  const gap = ' '.repeat(Math.max(0, width - text.length));
  return align === 'left' ? text + gap : gap + text;
}

/** Renders rows (plus a total row) as a boxed table. */
export function renderTable(title: string, columns: Column[], rows: UsageRow[], total: UsageRow | null): string {
  const body = rows.map((r) => columns.map((c) => c.cell(r)));
  const foot = total ? columns.map((c, i) => (i === 0 ? 'Total' : c.title === 'Models' ? '' : c.cell(total))) : null;
  const widths = columns.map((c, i) => Math.max(c.title.length, ...body.map((r) => r[i]!.length), foot ? foot[i]!.length : 0));
  const line = (l: string, m: string, r: string) => l + widths.map((w) => '─'.repeat(w + 2)).join(m) + r;
  const row = (cells: string[]) => `│ ${cells.map((c, i) => pad(c, widths[i]!, columns[i]!.align)).join(' │ ')} │`;
  const out = [title, line('┌', '┬', '┐'), row(columns.map((c) => c.title)), line('├', '┼', '┤')];
  for (const r of body) out.push(row(r));
  if (foot) {
    out.push(line('├', '┼', '┤'));
    out.push(row(foot));
  }
  out.push(line('└', '┴', '┘'));
  return out.join('\n');
}

/** The note under a table when some models have no price. */
export function unpricedNote(report: UsageReport): string {
  const models = report.totals.unpriced_models;
  if (models.length === 0) return '';
  return `* tokens of ${models.join(', ')} are counted, but ${models.length === 1 ? 'it has' : 'they have'} no price: the cost leaves ${models.length === 1 ? 'it' : 'them'} out (add prices with usage_pricing in the config file).`;
}
