// Where things go on a screen of a given size: how many rows the instance list and the recent
// events get, and how wide each instance column is. 80x24 is the smallest comfortable size;
// extra width goes to the name, tool, project and device columns; the list gets the rows its
// instances need, and the recent events the rest.

export interface Layout {
  width: number;
  height: number;
  /** Rows for instances (one each). */
  listRows: number;
  /** Rows for recent events. */
  eventRows: number;
  /** Too small for the whole dashboard: header, instances and footer only. */
  compact: boolean;
}

/** Header, instances title, column titles, a rule, status, usage, events title, footer. */
const FIXED_ROWS = 8;

/** Rows the event pane keeps however many instances there are. */
const MIN_EVENT_ROWS = 3;

/** `instances`: how many lines the list has (at least one, for "no instances yet"). */
export function layoutFor(width: number, height: number, instances = 0): Layout {
  const w = Math.max(20, Math.floor(width));
  const h = Math.max(4, Math.floor(height));
  if (h < FIXED_ROWS + 4) return { width: w, height: h, listRows: Math.max(1, h - 3), eventRows: 0, compact: true };
  const rest = h - FIXED_ROWS;
  const listRows = Math.max(1, Math.min(Math.max(1, instances), rest - MIN_EVENT_ROWS));
  return { width: w, height: h, listRows, eventRows: rest - listRows, compact: false };
}

export interface Columns {
  marker: number;
  /** On a hub: the machine an instance runs on (0: no other machine reports here). */
  machine: number;
  name: number;
  device: number;
  project: number;
  profile: number;
  state: number;
  tool: number;
  inState: number;
  age: number;
  tokens: number;
}

export const COLUMN_ORDER: (keyof Columns)[] = ['marker', 'machine', 'name', 'device', 'project', 'profile', 'state', 'tool', 'inState', 'age', 'tokens'];

const MIN: Columns = { marker: 2, machine: 0, name: 12, device: 11, project: 9, profile: 9, state: 8, tool: 10, inState: 8, age: 6, tokens: 6 };
const MAX: Partial<Columns> = { machine: 16, name: 40, device: 18, project: 24, profile: 12, tool: 40 };
/** Columns left out, in this order, when the screen is narrower than they all need. */
const DROP: (keyof Columns)[] = ['profile', 'age', 'tokens', 'device', 'project', 'machine'];
/** Who gets extra width first. */
const GROW: (keyof Columns)[] = ['name', 'tool', 'project', 'name', 'tool', 'device', 'project', 'profile', 'machine'];

/** Column widths for a line of `width` characters (one space between columns); `machines`: show the machine column. */
export function columnsFor(width: number, o: { machines?: boolean } = {}): Columns {
  const cols = { ...MIN, machine: o.machines ? 8 : 0 };
  const gaps = COLUMN_ORDER.filter((k) => cols[k] > 0).length - 2; // no gap after the marker
  let used = COLUMN_ORDER.reduce((n, k) => n + cols[k], 0) + gaps;
  // Narrower than 80: cut the tool and name down to 8, and where that is not enough leave
  // out the least needed columns; only then cut further.
  const room = () => Math.max(0, cols.tool - 8) + Math.max(0, cols.name - 8);
  for (const k of DROP) {
    if (used - room() <= width) break;
    if (cols[k] === 0) continue;
    used -= cols[k] + 1;
    cols[k] = 0;
  }
  for (const [k, floor] of [['tool', 8], ['name', 8], ['tool', 4], ['name', 4]] as const) {
    const take = Math.min(Math.max(0, used - width), cols[k] - floor);
    if (take > 0) {
      cols[k] -= take;
      used -= take;
    }
  }
  let spare = width - used;
  while (spare > 0) {
    let grew = false;
    for (const k of GROW) {
      if (spare === 0) break;
      if (cols[k] > 0 && cols[k] < (MAX[k] ?? Infinity)) {
        cols[k] += 1;
        spare -= 1;
        grew = true;
      }
    }
    if (!grew) break;
  }
  return cols;
}
