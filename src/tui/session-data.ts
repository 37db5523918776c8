// Managed sessions as the dashboard reads them from the API: a session in the list, and a
// session's output messages as lines a person reads.
import { z } from 'zod';

export const sessionItemSchema = z.looseObject({ id: z.string(), name: z.string(), repo: z.string(), agent: z.string(), kind: z.string(), state: z.string(), updated_at: z.string() });
export type SessionItem = z.infer<typeof sessionItemSchema>;

/** The output messages of a session as lines a person reads: what the agent said, its results. */
export function outputLines(messages: { kind: string; message: Record<string, unknown> }[]): string[] {
  const out: string[] = [];
  for (const m of messages) {
    const msg = m.message as { message?: { content?: unknown }; result?: unknown; item?: { text?: unknown }; subtype?: unknown };
    if (m.kind === 'assistant') {
      const content = Array.isArray(msg.message?.content) ? (msg.message.content as { type?: string; text?: string; name?: string }[]) : [];
      for (const b of content) {
        if (b.type === 'text' && b.text) out.push(...b.text.split('\n').map((l) => `● ${l}`));
        if (b.type === 'tool_use') out.push(`⚙ ${b.name ?? 'tool'}`);
      }
      if (typeof msg.item?.text === 'string') out.push(`● ${msg.item.text}`);
    } else if (m.kind === 'result') {
      out.push(`— ${typeof msg.result === 'string' && msg.subtype === 'success' ? 'turn done' : `turn ended (${String(msg.subtype ?? 'done')})`}`);
    } else if (m.kind === 'text') out.push(String((m.message as { text?: unknown }).text ?? ''));
  }
  return out;
}
