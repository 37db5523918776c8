// The JSON body parser for every route but the hooks: JSON only, objects or arrays, limited.
import { koaBody } from 'koa-body';

export function jsonBody(limitBytes: number) {
  return koaBody({ jsonLimit: limitBytes, jsonStrict: true, urlencoded: false, text: false, multipart: false });
}
