// Obsidian through its Local REST API plugin: the commands, running one, and eval. Eval is
// refused unless the config turns it on, and needs the API token even from this machine (a
// local program that may call the API must not thereby run code inside Obsidian); the token
// is checked here because it is about this request, not about Obsidian.
import Router from '@koa/router';
import type { Context } from 'koa';
import type { Obsidian } from '../../obsidian/service.js';
import { commandBodySchema, evalBodySchema } from '../../protocol/obsidian.js';
import { bearerToken } from '../auth.js';
import { jsonBody } from '../body.js';
import { HttpError, parseOr400 } from '../errors.js';
import { emptyQuerySchema } from '../../protocol/api.js';

export type ObsidianRoutes = Pick<Obsidian, 'commands' | 'runCommand' | 'assertEvalEnabled' | 'evaluate'> & {
  /** Whether a token is the API token (constant time). */
  tokenMatches(token: string): boolean;
  bodyLimitBytes: number;
};

export function obsidianRouter(d: ObsidianRoutes): Router {
  const router = new Router({ prefix: '/api/obsidian' });
  const body = jsonBody(d.bodyLimitBytes);
  const noQuery = (ctx: Context) => parseOr400(emptyQuerySchema, ctx.query, 'query');

  router.get('/commands', async (ctx) => {
    noQuery(ctx);
    const commands = await d.commands();
    ctx.body = { count: commands.length, commands };
  });

  router.post('/command', body, async (ctx) => {
    noQuery(ctx);
    const { id } = parseOr400(commandBodySchema, ctx.request.body ?? {}, 'body');
    ctx.body = await d.runCommand(id);
  });

  router.post('/eval', body, async (ctx) => {
    noQuery(ctx);
    d.assertEvalEnabled();
    const token = bearerToken(ctx.get('authorization') || undefined);
    if (token === null || !d.tokenMatches(token)) {
      ctx.set('WWW-Authenticate', 'Bearer realm="token-api"');
      throw new HttpError(401, 'unauthorized', `Obsidian eval needs "Authorization: Bearer <token>" even from this machine${token === null ? '' : ' (the token sent is not this server\'s)'}; \`token-api token\` prints it`);
    }
    const { code } = parseOr400(evalBodySchema, ctx.request.body ?? {}, 'body');
    ctx.body = await d.evaluate(code, { remoteAddress: ctx.req.socket.remoteAddress ?? null });
  });

  return router;
}
