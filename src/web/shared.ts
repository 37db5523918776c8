// Everything the page takes from the rest of token-api, in one place: the feed's zod schemas
// (the same ones the server and the terminal dashboard use; bundled, so a cached old page
// checks what a newer server sends), the HTTP answers' types (type-only: no bytes), and the
// event words the terminal dashboard uses too. Only src/protocol and src/lib (pure modules, no
// node:*) may be imported here: the page is a client, like the dashboard.
import './zod-jitless.js'; // first: before any schema below is built
export { serverMessageSchema, STREAM_TYPES } from '../protocol/feed.js';
export type { FeedApproval, FeedEvent, FeedGate, FeedInstance, FeedMode, FeedSession, FeedUsageTotals, ServerMessage, SnapshotMessage, StreamType } from '../protocol/feed.js';
export { describeEvent } from '../protocol/event-words.js';
export { SESSIONS_CLEANED_UP, withSessionChanges } from '../protocol/session-changes.js';

import type { z } from 'zod';
import type * as A from '../protocol/answers.js';

export type ApiError = z.infer<typeof A.errorAnswerSchema>;
export type InstanceDetails = z.infer<typeof A.instanceDetailsSchema>;
export type EventView = z.infer<typeof A.eventViewSchema>;
export type EventList = z.infer<typeof A.eventListSchema>;
export type NotificationView = z.infer<typeof A.notificationSchema>;
export type NotificationList = z.infer<typeof A.notificationListSchema>;
export type UsageReport = z.infer<typeof A.usageReportSchema>;
export type CheckAnswer = z.infer<typeof A.checkAnswerSchema>;
export type StateView = z.infer<typeof A.stateViewSchema>;
export type { WebLoginBody } from '../protocol/web.js';

import type * as S from '../protocol/sessions.js';
export type RepoList = z.infer<typeof S.repoListSchema>;
export type SessionView = z.infer<typeof S.sessionViewSchema>;
export type SessionList = z.infer<typeof S.sessionListSchema>;
export type OutputMessage = z.infer<typeof S.outputMessageSchema>;

import type * as F from '../protocol/fleet.js';
export type MachineView = z.infer<typeof F.machineViewSchema>;
export type MachineList = z.infer<typeof F.machineListSchema>;
export type RemoteAnswer = z.infer<typeof F.remoteAnswerSchema>;
