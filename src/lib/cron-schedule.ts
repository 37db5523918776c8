// Cron expressions through croner (a well-kept parser; none is hand-written here): whether an
// expression is one token-api accepts (five fields, minute to weekday, or a nickname such as
// @daily), and the next time it names after an instant, in a time zone. Pure: the instant is given.
import { Cron } from 'croner';

const OPTIONS = { mode: '5-part' as const };

function pattern(expression: string, timezone?: string): Cron {
  return new Cron(expression.trim(), { ...OPTIONS, ...(timezone ? { timezone } : {}), paused: true });
}

/** What is wrong with an expression, in words, or null when it is a schedule that runs. */
export function scheduleProblem(expression: string, timezone?: string): string | null {
  let next: Date | null;
  try {
    next = pattern(expression, timezone).nextRun();
  } catch (err) {
    const why = (err as Error).message.replace(/^CronPattern: /, '').replace(/^CronDate: /, '');
    return `is ${JSON.stringify(expression.slice(0, 100))}, which croner refuses (${why}); expected five fields (minute hour day-of-month month day-of-week, such as "30 3 * * *") or @hourly, @daily, @weekly, @monthly, @yearly`;
  }
  if (next === null) return `is ${JSON.stringify(expression.slice(0, 100))}, a schedule that never comes (such as the 30th of February); expected one that runs`;
  return null;
}

/** The first time after `afterMs` that the expression names, in epoch ms (null: never). */
export function nextRunAfter(expression: string, timezone: string, afterMs: number): number | null {
  return pattern(expression, timezone).nextRun(new Date(afterMs))?.getTime() ?? null;
}
