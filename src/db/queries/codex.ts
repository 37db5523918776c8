// Where the Codex rollout watcher stopped reading each rollout file (codex_files): written with
// the instance changes its lines caused, read back at start.
import type { Database } from '../database.js';
import type { WriteOp } from '../writer.js';

export type CodexFileRow = { path: string; session_id: string | null; offset: number; updated_at: string };

export function codexCursorOp(row: CodexFileRow): WriteOp {
  return { kind: 'upsert', table: 'codex_files', key: ['path'], row };
}

export function codexCursors(db: Database): Promise<{ path: string; session_id: string | null; offset: number }[]> {
  return db.all<{ path: string; session_id: string | null; offset: number }>('SELECT path, session_id, offset FROM codex_files');
}
