// The `obsidian` block of the config file: where Obsidian's Local REST API plugin listens, its
// API key, which certificate to trust (its file, or its SHA-256 fingerprint: the plugin serves
// HTTPS with a self-signed certificate), whether eval is allowed and through which plugin
// route, and the vault folder read directly. The API key is a secret: GET /api/config masks it.
import { z } from 'zod';

const FINGERPRINT = /^(?:[0-9A-Fa-f]{2}:?){31}[0-9A-Fa-f]{2}$/;

export const obsidianFileSchema = z
  .object({
    url: z.url({ protocol: /^https?$/, error: 'an http:// or https:// URL, such as https://127.0.0.1:27124' }).max(2048).optional(),
    api_key: z.string().min(1).max(512).nullable().optional(),
    certificate: z.string().min(1).max(4096).nullable().optional(),
    fingerprint: z.string().regex(FINGERPRINT, 'a SHA-256 fingerprint: 64 hex digits, with or without colons').nullable().optional(),
    timeout_seconds: z.number().positive().max(600).optional(),
    vault: z.string().min(1).max(4096).nullable().optional(),
    eval_enabled: z.boolean().optional(),
    eval_route: z.string().regex(/^\/[A-Za-z0-9._~\/-]{0,200}$/, 'a path on the plugin, such as /eval/').nullable().optional(),
  })
  .strict();

export interface ObsidianSettings {
  url: string;
  apiKey: string | null;
  /** A PEM file holding the plugin's certificate (its own, or the CA that signed it). */
  certificate: string | null;
  /** The plugin certificate's SHA-256 fingerprint, upper-case hex with colons. */
  fingerprint: string | null;
  timeoutMs: number;
  /** The vault's folder, read directly by GET /api/vault/*. */
  vault: string | null;
  evalEnabled: boolean;
  /** The plugin route that runs JavaScript (a route another plugin adds to the Local REST API). */
  evalRoute: string | null;
}

/** The fingerprint as Node prints a certificate's: upper-case hex pairs joined by colons. */
export function canonicalFingerprint(f: string): string {
  const hex = f.replace(/:/g, '').toUpperCase();
  return hex.match(/../g)!.join(':');
}

export function obsidianSettings(file: z.infer<typeof obsidianFileSchema> | undefined, resolvePath: (p: string) => string): ObsidianSettings {
  return {
    url: (file?.url ?? 'https://127.0.0.1:27124').replace(/\/+$/, ''),
    apiKey: file?.api_key ?? null,
    certificate: file?.certificate ? resolvePath(file.certificate) : null,
    fingerprint: file?.fingerprint ? canonicalFingerprint(file.fingerprint) : null,
    timeoutMs: (file?.timeout_seconds ?? 10) * 1000,
    vault: file?.vault ? resolvePath(file.vault) : null,
    evalEnabled: file?.eval_enabled ?? false,
    evalRoute: file?.eval_route ?? null,
  };
}

/** Config file keys whose values are secrets: masked in every answer. */
export const OBSIDIAN_SECRETS = ['obsidian.api_key'] as const;
