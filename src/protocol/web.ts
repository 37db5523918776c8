// zod schemas of the web page's own routes (/api/web/*): logging in with the API token or a
// one-time code from `token-api web link`, the session, and the link itself. Strict, like
// every body the API takes. Pure (zod only): the page imports their types.
import * as z from 'zod';
import { WHOLE } from '../lib/validation-words.js';

export const LOGIN_CODE = /^[A-Za-z0-9_-]{20,64}$/;

export const webLoginBodySchema = z
  .strictObject({
    token: z.string().min(1, 'the API token (token-api token prints it)').max(512, 'at most 512 characters').optional(),
    code: z.string().regex(LOGIN_CODE, 'a one-time code from token-api web link').optional(),
  })
  .refine((b) => (b.token === undefined) !== (b.code === undefined), { message: 'needs either token or code (one of them)', params: WHOLE });
export type WebLoginBody = z.infer<typeof webLoginBodySchema>;

const iso = z.string().describe('an ISO 8601 time, UTC');

export const webSessionSchema = z.looseObject({
  via: z.enum(['loopback', 'token', 'cookie', 'check_network']).describe('how this request was let in: loopback (this machine), a cookie session, or the bearer token'),
  expires_at: iso.nullable().describe('when the cookie session ends (null: not a cookie session)'),
});

export const webLinkSchema = z.looseObject({
  url: z.string().describe('the page with a one-time code in its fragment (#code=…); opening it logs that browser in'),
  expires_at: iso,
  reachable: z.boolean().describe('false when token-api listens on loopback only and no web.public_url is set: the link works on this machine alone'),
});
