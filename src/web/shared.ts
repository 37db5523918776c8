// Everything the page takes from the rest of token-api, in one place: the feed's zod schemas
// (the same ones the server and the terminal dashboard use; bundled, so a cached old page
// checks what a newer server sends), the HTTP answers' types (type-only: no bytes), and the
// event words the terminal dashboard uses. Only pure modules (no node:*) may be imported here.
import './zod-jitless.js'; // first: before any schema below is built
export { serverMessageSchema, STREAM_TYPES } from '../http/feed-messages.js';
export type { FeedEvent, FeedGate, FeedInstance, FeedMode, FeedUsageTotals, ServerMessage, SnapshotMessage, StreamType } from '../http/feed-messages.js';
export { describeEvent } from '../tui/event-words.js';

import type { z } from 'zod';
import type * as A from '../http/answer-schemas.js';

export type ApiError = z.infer<typeof A.errorAnswerSchema>;
export type InstanceDetails = z.infer<typeof A.instanceDetailsSchema>;
export type EventView = z.infer<typeof A.eventViewSchema>;
export type EventList = z.infer<typeof A.eventListSchema>;
export type NotificationView = z.infer<typeof A.notificationSchema>;
export type NotificationList = z.infer<typeof A.notificationListSchema>;
export type UsageReport = z.infer<typeof A.usageReportSchema>;
export type CheckAnswer = z.infer<typeof A.checkAnswerSchema>;
export type StateView = z.infer<typeof A.stateViewSchema>;
export type { WebLoginBody } from '../http/web-schemas.js';
