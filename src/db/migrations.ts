// Versioned schema migrations, applied in order at start-up, each in its own transaction.
// A database written by a newer token-api (a version we do not know) is refused, not guessed at.
import type { Database } from './database.js';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const migrations: readonly Migration[] = [
  {
    version: 1,
    name: 'instances, devices, events, actor snapshots',
    sql: `
      CREATE TABLE devices (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        type TEXT NOT NULL,
        tailscale_ip TEXT UNIQUE,
        notification_method TEXT,
        webhook_url TEXT,
        tts_engine TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
      );

      -- A queryable projection of each instance actor; the actor snapshot is the truth.
      CREATE TABLE claude_instances (
        id TEXT PRIMARY KEY,
        session_id TEXT UNIQUE NOT NULL,
        agent_type TEXT NOT NULL DEFAULT 'claude',
        tab_name TEXT,
        display_name TEXT NOT NULL,
        origin_type TEXT NOT NULL,
        source_ip TEXT,
        device_id TEXT NOT NULL,
        profile_name TEXT,
        tts_voice TEXT,
        notification_sound TEXT,
        color TEXT,
        pid INTEGER,
        working_dir TEXT,
        transcript_path TEXT,
        status TEXT NOT NULL DEFAULT 'active',
        state TEXT NOT NULL,
        current_tool TEXT,
        tool_count INTEGER NOT NULL DEFAULT 0,
        subagent_count INTEGER NOT NULL DEFAULT 0,
        registered_at TEXT NOT NULL,
        last_activity TEXT NOT NULL,
        state_since TEXT NOT NULL,
        stopped_at TEXT,
        stop_reason TEXT
      );
      CREATE INDEX idx_instances_status ON claude_instances(status);
      CREATE INDEX idx_instances_device ON claude_instances(device_id);

      -- Every session id an instance has had (resume, /clear and /compact change it).
      CREATE TABLE instance_sessions (
        session_id TEXT PRIMARY KEY,
        instance_id TEXT NOT NULL,
        linked_at TEXT NOT NULL
      );
      CREATE INDEX idx_instance_sessions_instance ON instance_sessions(instance_id);

      CREATE TABLE events (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        event_type TEXT NOT NULL,
        instance_id TEXT,
        device_id TEXT,
        details TEXT,
        created_at TEXT NOT NULL
      );
      CREATE INDEX idx_events_time ON events(created_at DESC);
      CREATE INDEX idx_events_instance ON events(instance_id, id);
      CREATE INDEX idx_events_type ON events(event_type, id);

      CREATE TABLE actor_snapshots (
        actor_id TEXT PRIMARY KEY,
        machine_id TEXT NOT NULL,
        machine_version TEXT NOT NULL,
        status TEXT NOT NULL,
        snapshot TEXT NOT NULL,
        updated_at TEXT NOT NULL
      );
      CREATE INDEX idx_snapshots_machine ON actor_snapshots(machine_id, status);
    `,
  },
  {
    version: 2,
    name: 'notification outbox: intents, notifications, deliveries',
    sql: `
      -- Every notify intent an actor emitted, written in the transaction of the transition
      -- that emitted it. notification_id stays NULL while the intent waits in the coalescing
      -- window, so a crash inside the window loses nothing: start-up groups what is left.
      CREATE TABLE notification_intents (
        id TEXT PRIMARY KEY,
        at TEXT NOT NULL,
        intent TEXT NOT NULL,
        instance_id TEXT,
        device_id TEXT,
        group_key TEXT NOT NULL,
        channels TEXT NOT NULL,
        urgency TEXT NOT NULL,
        name TEXT,
        sentence TEXT NOT NULL,
        detail TEXT,
        voice TEXT,
        sound TEXT,
        notification_id TEXT,
        created_at TEXT NOT NULL
      );
      CREATE INDEX idx_intents_notification ON notification_intents(notification_id);

      -- The outbox: one row per notification, written before any channel runs.
      CREATE TABLE notifications (
        id TEXT PRIMARY KEY,
        created_at TEXT NOT NULL,
        source TEXT NOT NULL,
        event TEXT NOT NULL,
        device_id TEXT,
        instance_id TEXT,
        title TEXT NOT NULL,
        message TEXT NOT NULL,
        urgency TEXT NOT NULL,
        voice TEXT,
        sound TEXT,
        intent_count INTEGER NOT NULL DEFAULT 0,
        reason TEXT
      );
      CREATE INDEX idx_notifications_time ON notifications(created_at DESC);

      -- One row per channel of a notification, with its delivery status and attempts.
      CREATE TABLE notification_deliveries (
        notification_id TEXT NOT NULL,
        channel TEXT NOT NULL,
        target TEXT,
        status TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at TEXT,
        expires_at TEXT NOT NULL,
        last_attempt_at TEXT,
        delivered_at TEXT,
        last_error TEXT,
        response_status INTEGER,
        response_body TEXT,
        PRIMARY KEY (notification_id, channel)
      );
      CREATE INDEX idx_deliveries_status ON notification_deliveries(status, channel);
    `,
  },
  {
    version: 3,
    name: 'hook event ids (spool replay), Codex rollout offsets',
    sql: `
      -- Ids the hook script gives its events, written with the event's effect, so a replayed
      -- spool line that was already accepted is recognised and changes nothing.
      CREATE TABLE hook_event_ids (
        event_id TEXT PRIMARY KEY,
        received_at TEXT NOT NULL
      ) WITHOUT ROWID;
      CREATE INDEX idx_hook_event_ids_time ON hook_event_ids(received_at);

      -- How far each Codex rollout file has been read, committed with the events its lines made.
      CREATE TABLE codex_files (
        path TEXT PRIMARY KEY,
        session_id TEXT,
        offset INTEGER NOT NULL,
        updated_at TEXT NOT NULL
      );
    `,
  },
  {
    version: 4,
    name: 'token usage records, transcript cursors, push cursors',
    sql: `
      -- One row per model response (Claude) or token-count step (Codex), from any device.
      -- key is the record's identity everywhere (message.id:requestId for Claude): a record
      -- sent or read twice is stored once. seq orders records for pushing to another hub.
      CREATE TABLE usage_records (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        key TEXT NOT NULL UNIQUE,
        device_id TEXT NOT NULL,
        source TEXT NOT NULL,
        session_id TEXT,
        instance_id TEXT,
        project TEXT,
        model TEXT NOT NULL,
        at INTEGER NOT NULL,
        input_tokens INTEGER NOT NULL,
        output_tokens INTEGER NOT NULL,
        cache_creation_tokens INTEGER NOT NULL,
        cache_read_tokens INTEGER NOT NULL,
        cost_usd REAL
      );
      CREATE INDEX idx_usage_at ON usage_records(at);
      CREATE INDEX idx_usage_device_at ON usage_records(device_id, at);
      CREATE INDEX idx_usage_instance ON usage_records(instance_id) WHERE instance_id IS NOT NULL;
      CREATE INDEX idx_usage_session ON usage_records(session_id);

      -- How far each transcript has been read, and the parser state at that point.
      CREATE TABLE usage_files (
        path TEXT PRIMARY KEY,
        source TEXT NOT NULL,
        offset INTEGER NOT NULL,
        size INTEGER NOT NULL,
        mtime_ms INTEGER NOT NULL,
        head TEXT NOT NULL,
        state TEXT,
        updated_at TEXT NOT NULL
      );

      -- How far this machine's records were pushed to another hub (token-api usage push).
      CREATE TABLE usage_push_cursors (
        target TEXT NOT NULL,
        device_id TEXT NOT NULL,
        last_seq INTEGER NOT NULL,
        pushed_at TEXT NOT NULL,
        PRIMARY KEY (target, device_id)
      );

      CREATE TABLE usage_meta (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
      );
    `,
  },
  {
    version: 5,
    name: 'instance agent name and running subagents',
    sql: `
      -- The custom agent a session runs as (claude --agent NAME), and its running subagents (JSON).
      ALTER TABLE claude_instances ADD COLUMN agent_name TEXT;
      ALTER TABLE claude_instances ADD COLUMN subagents TEXT;
    `,
  },
  {
    version: 6,
    name: 'instances and notification intents: project; instances: display number',
    sql: `
      -- The project an instance works in (its repository's or directory's name), and its
      -- display number ("Claude #3"), so that a number is not given again soon after its
      -- instance stopped, across restarts too.
      ALTER TABLE claude_instances ADD COLUMN project TEXT;
      ALTER TABLE claude_instances ADD COLUMN name_number INTEGER;
      CREATE INDEX idx_instances_stopped ON claude_instances(stopped_at) WHERE status = 'stopped';
      -- Each intent's project, so that a coalesced notification can say which agent did what where.
      ALTER TABLE notification_intents ADD COLUMN project TEXT;
    `,
  },
  {
    version: 9,
    name: 'managed sessions and their output',
    sql: `
      -- Sessions token-api started (src/sessions): one row mirroring each session actor.
      CREATE TABLE managed_sessions (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        kind TEXT NOT NULL,
        agent TEXT NOT NULL,
        repo TEXT NOT NULL,
        cwd TEXT NOT NULL,
        state TEXT NOT NULL,
        claude_session_id TEXT NOT NULL,
        account TEXT,
        pid INTEGER,
        exit_code INTEGER,
        exit_signal TEXT,
        exit_reason TEXT,
        exit_lines TEXT, -- JSON: the last lines the agent printed
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
      );
      CREATE INDEX idx_managed_sessions_state ON managed_sessions(state);
      -- What a headless session printed, one parsed message a row, paged by seq.
      CREATE TABLE session_output (
        session_id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        at TEXT NOT NULL,
        kind TEXT NOT NULL,
        json TEXT NOT NULL,
        PRIMARY KEY (session_id, seq)
      );
      -- Accounts (config: accounts) that an agent said were rate-limited, and until when.
      CREATE TABLE account_limits (
        account TEXT PRIMARY KEY,
        limited_until TEXT,
        reason TEXT,
        updated_at TEXT NOT NULL
      );
    `,
  },
  {
    version: 7,
    name: 'scheduled jobs and their runs; metrics',
    sql: `
      -- A scheduled job: a built-in action (JSON, {"type": ...}) or a shell command, on a cron
      -- schedule. handled_until: every scheduled time up to it was run, skipped or let pass
      -- (NULL: from the first start that loads the job).
      CREATE TABLE cron_jobs (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        schedule TEXT NOT NULL,
        timezone TEXT,
        command TEXT,
        action TEXT,
        enabled INTEGER NOT NULL,
        catch_up INTEGER NOT NULL,
        timeout_seconds REAL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        handled_until TEXT,
        CHECK ((command IS NULL) <> (action IS NULL))
      );
      CREATE TABLE cron_runs (
        id TEXT PRIMARY KEY,
        job_id TEXT NOT NULL,
        trigger TEXT NOT NULL,
        scheduled_for TEXT,
        started_at TEXT NOT NULL,
        finished_at TEXT,
        status TEXT NOT NULL,
        exit_code INTEGER,
        signal TEXT,
        output TEXT,
        output_bytes INTEGER NOT NULL DEFAULT 0,
        output_truncated INTEGER NOT NULL DEFAULT 0,
        result TEXT,
        error TEXT
      );
      CREATE INDEX idx_cron_runs_job ON cron_runs(job_id, started_at);
      -- The default jobs, editable and deletable like any other.
      INSERT INTO cron_jobs (id, name, schedule, timezone, command, action, enabled, catch_up, timeout_seconds, created_at, updated_at, handled_until)
      VALUES
        ('daily-backup', 'Daily backup of the database', '30 3 * * *', NULL, NULL, '{"type":"backup","keep":7}', 1, 1, NULL,
          strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), NULL),
        ('usage-scan', 'Usage scan of every transcript', '0 * * * *', NULL, NULL, '{"type":"usage.sync"}', 1, 0, NULL,
          strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), NULL);

      -- Values automations keep (a phone's battery, a build's status); JSON, with an optional expiry.
      CREATE TABLE metrics (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        expires_at TEXT
      );
    `,
  },
  {
    version: 8,
    name: 'approvals',
    sql: `
      -- Permission requests waiting for (or given) a decision; the approval actor's snapshot is
      -- the record, this row mirrors it for listing. state: pending, decided, expired,
      -- answered_elsewhere, withdrawn; decided_by: loopback, token, link, policy.
      CREATE TABLE approvals (
        id TEXT PRIMARY KEY,
        instance_id TEXT,
        session_id TEXT NOT NULL,
        tool_name TEXT NOT NULL,
        tool_input TEXT NOT NULL,
        summary TEXT NOT NULL,
        cwd TEXT,
        project TEXT,
        state TEXT NOT NULL,
        behavior TEXT,
        message TEXT,
        decided_by TEXT,
        rule_id TEXT,
        resolution TEXT,
        created_at TEXT NOT NULL,
        expires_at TEXT NOT NULL,
        resolved_at TEXT
      );
      CREATE INDEX idx_approvals_created ON approvals(created_at);
      CREATE INDEX idx_approvals_pending ON approvals(created_at) WHERE state = 'pending';
    `,
  },
  {
    version: 10,
    name: 'machines: change numbering, hub tokens, machines and their remote instances',
    sql: `
      -- This machine's identity and its change counter: 'machine' (its id, made once), 'epoch'
      -- (made with the database: a replaced or restored database is a new epoch) and 'seq' (the
      -- number of the last change).
      CREATE TABLE fleet_meta (k TEXT PRIMARY KEY, v TEXT NOT NULL);
      INSERT INTO fleet_meta (k, v) VALUES ('machine', lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2) || '-' || substr('89ab', 1 + abs(random()) % 4, 1) || substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(6)))), ('epoch', lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2) || '-' || substr('89ab', 1 + abs(random()) % 4, 1) || substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(6)))), ('seq', '0');
      -- Every change to an instance and every new event gets the next number, by triggers, so
      -- no code path can forget it; a change rolled back gives its number back with it.
      ALTER TABLE claude_instances ADD COLUMN change_seq INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE events ADD COLUMN change_seq INTEGER NOT NULL DEFAULT 0;
      UPDATE events SET change_seq = id;
      UPDATE claude_instances SET change_seq = (SELECT COALESCE(MAX(id), 0) FROM events) + rowid;
      UPDATE fleet_meta SET v = CAST((SELECT MAX(n) FROM (SELECT MAX(change_seq) AS n FROM events UNION ALL SELECT MAX(change_seq) FROM claude_instances UNION ALL SELECT 0)) AS TEXT) WHERE k = 'seq';
      CREATE INDEX idx_instances_change ON claude_instances(change_seq);
      CREATE INDEX idx_events_change ON events(change_seq);
      CREATE TRIGGER fleet_stamp_instance_insert AFTER INSERT ON claude_instances BEGIN
        UPDATE fleet_meta SET v = CAST(v AS INTEGER) + 1 WHERE k = 'seq';
        UPDATE claude_instances SET change_seq = (SELECT CAST(v AS INTEGER) FROM fleet_meta WHERE k = 'seq') WHERE rowid = NEW.rowid;
      END;
      CREATE TRIGGER fleet_stamp_instance_update AFTER UPDATE ON claude_instances WHEN NEW.change_seq IS OLD.change_seq BEGIN
        UPDATE fleet_meta SET v = CAST(v AS INTEGER) + 1 WHERE k = 'seq';
        UPDATE claude_instances SET change_seq = (SELECT CAST(v AS INTEGER) FROM fleet_meta WHERE k = 'seq') WHERE rowid = NEW.rowid;
      END;
      CREATE TRIGGER fleet_stamp_event_insert AFTER INSERT ON events BEGIN
        UPDATE fleet_meta SET v = CAST(v AS INTEGER) + 1 WHERE k = 'seq';
        UPDATE events SET change_seq = (SELECT CAST(v AS INTEGER) FROM fleet_meta WHERE k = 'seq') WHERE id = NEW.id;
      END;

      -- On a hub: one token per machine (only its sha256 is kept), bound to the machine's id at
      -- its first registration; a revoked token is kept, marked.
      CREATE TABLE fleet_tokens (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        name TEXT NOT NULL,
        token_sha256 TEXT NOT NULL UNIQUE,
        prefix TEXT NOT NULL,
        machine TEXT,
        created_at TEXT NOT NULL,
        revoked_at TEXT
      );
      CREATE UNIQUE INDEX idx_fleet_tokens_name ON fleet_tokens(name) WHERE revoked_at IS NULL;
      -- The machines that report to this hub: two versioned documents, the sync cursor (the
      -- last change applied, moved in the transaction that applies it) and when it was last heard.
      CREATE TABLE fleet_machines (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        token_id INTEGER NOT NULL,
        metadata TEXT NOT NULL,
        metadata_version INTEGER NOT NULL,
        daemon_state TEXT NOT NULL,
        daemon_state_version INTEGER NOT NULL,
        epoch TEXT,
        acked_seq INTEGER NOT NULL DEFAULT 0,
        last_seen_at TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
      );
      -- The last view of each instance of each machine (the machine is the truth), and its events.
      CREATE TABLE remote_instances (
        machine TEXT NOT NULL,
        id TEXT NOT NULL,
        view TEXT NOT NULL,
        state TEXT NOT NULL,
        status TEXT NOT NULL,
        registered_at TEXT NOT NULL,
        change_seq INTEGER NOT NULL,
        PRIMARY KEY (machine, id)
      );
      CREATE TABLE remote_events (
        machine TEXT NOT NULL,
        remote_id INTEGER NOT NULL,
        event_type TEXT NOT NULL,
        instance_id TEXT,
        device_id TEXT,
        details TEXT,
        created_at TEXT NOT NULL,
        PRIMARY KEY (machine, remote_id)
      );
      `,
  },
  {
    version: 11,
    name: 'instances: the managed session each is a child of',
    sql: `
      -- An instance whose agent token-api started (src/sessions): the session's id and kind
      -- (headless, terminal), from the TOKEN_API_SESSION its hooks forward; null otherwise.
      ALTER TABLE claude_instances ADD COLUMN managed_session TEXT;
      ALTER TABLE claude_instances ADD COLUMN managed_kind TEXT;
    `,
  },
];

export class MigrationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MigrationError';
  }
}

/** Bring the schema up to date; returns the versions applied now. */
export async function migrate(db: Database, list: readonly Migration[] = migrations): Promise<number[]> {
  await db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)');
  const rows = await db.all<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version');
  const have = new Set(rows.map((r) => r.version));
  const newest = list.reduce((m, x) => Math.max(m, x.version), 0);
  const unknown = rows.filter((r) => r.version > newest);
  if (unknown.length > 0) {
    throw new MigrationError(
      `database ${db.file} has schema version ${unknown[unknown.length - 1]!.version}, newer than this token-api knows (${newest}); upgrade token-api or point it at another data directory`,
    );
  }
  const applied: number[] = [];
  for (const m of [...list].sort((a, b) => a.version - b.version)) {
    if (have.has(m.version)) continue;
    await db.exec('BEGIN IMMEDIATE');
    try {
      await db.exec(m.sql);
      await db.run('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)', [m.version, m.name, new Date().toISOString()]);
      await db.exec('COMMIT');
    } catch (err) {
      await db.exec('ROLLBACK').catch(() => undefined);
      throw new MigrationError(`migration ${m.version} (${m.name}) failed: ${(err as Error).message}`);
    }
    applied.push(m.version);
  }
  return applied;
}
