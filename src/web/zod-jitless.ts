// zod compiles object parsers with `new Function` when its schemas are built, where it may;
// the page's content security policy forbids that (script-src 'self'), and merely trying is
// reported as a violation. Imported before any schema is built (shared.ts, first line).
import { config } from 'zod';

config({ jitless: true });
