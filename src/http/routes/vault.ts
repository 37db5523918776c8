// The Obsidian vault read from its folder: GET /api/vault/note, /search, /tags, /tagged,
// /recent and /daily. Reads only; a path never leaves the vault (src/obsidian/vault-paths.ts).
import Router from '@koa/router';
import type { Vault } from '../../obsidian/vault.js';
import { dailyQuerySchema, notePathQuerySchema, recentQuerySchema, searchQuerySchema, taggedQuerySchema } from '../../protocol/obsidian.js';
import { parseOr400 } from '../errors.js';
import { emptyQuerySchema } from '../../protocol/api.js';

export type VaultRoutes = Pick<Vault, 'note' | 'search' | 'tags' | 'tagged' | 'recent' | 'daily'>;

export function vaultRouter(d: VaultRoutes): Router {
  const router = new Router({ prefix: '/api/vault' });

  router.get('/note', (ctx) => {
    ctx.body = d.note(parseOr400(notePathQuerySchema, ctx.query, 'query').path);
  });

  router.get('/search', (ctx) => {
    const q = parseOr400(searchQuerySchema, ctx.query, 'query');
    ctx.body = d.search(q.q, q.limit ?? 20);
  });

  router.get('/tags', (ctx) => {
    parseOr400(emptyQuerySchema, ctx.query, 'query');
    ctx.body = d.tags();
  });

  router.get('/tagged', (ctx) => {
    const q = parseOr400(taggedQuerySchema, ctx.query, 'query');
    ctx.body = d.tagged(q.tag, q.limit ?? 50);
  });

  router.get('/recent', (ctx) => {
    const q = parseOr400(recentQuerySchema, ctx.query, 'query');
    ctx.body = d.recent(q.limit ?? 20, q.since === undefined ? undefined : Date.parse(q.since));
  });

  router.get('/daily', (ctx) => {
    ctx.body = d.daily(parseOr400(dailyQuerySchema, ctx.query, 'query').date);
  });

  return router;
}
