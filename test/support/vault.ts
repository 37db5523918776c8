// A generated Obsidian vault: notes in folders with front matter and inline tags, a daily
// note named as the Daily notes plugin would (its settings in .obsidian/daily-notes.json),
// hidden folders, and symbolic links, one inside the vault and others leading out of it to
// files a test must never be able to read through the vault routes.
import { mkdirSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export const SECRET = 'the contents of a file outside the vault';

/** Writes the vault into `dir/vault` (and files outside it into `dir/outside`); returns the vault's folder. */
export function makeVault(dir: string, today: string): string {
  const vault = join(dir, 'vault');
  const outside = join(dir, 'outside');
  const write = (path: string, text: string, mtime: number) => {
    const full = join(vault, path);
    mkdirSync(dirname(full), { recursive: true });
    writeFileSync(full, text);
    utimesSync(full, mtime, mtime);
  };
  const t = Date.parse('2026-11-20T10:00:00Z') / 1000;
  write('Projects/api.md', '---\ntags: [project/api, work]\nstatus: active\n---\n# The API\n\nDeploy on Fridays. #review\n\n```sh\n# not a heading, and #not-a-tag\n```\n', t + 300);
  write('Projects/blog.md', '---\ntags: project\n---\nDraft the post about deploying static sites.\n', t + 200);
  write('Inbox.md', 'Buy milk #errand\nCall about the #Review of the lease\n', t + 100);
  write(`Daily/${today}.md`, `# ${today}\n\n- [ ] stand-up #work\n`, t + 400);
  write('.obsidian/daily-notes.json', JSON.stringify({ folder: 'Daily', format: 'YYYY-MM-DD', template: '' }), t);
  write('.trash/old.md', 'deploy deploy deploy #project\n', t + 500);
  mkdirSync(outside, { recursive: true });
  writeFileSync(join(outside, 'secret.md'), `${SECRET} #project\n`);
  symlinkSync(join(outside, 'secret.md'), join(vault, 'leak.md'));
  symlinkSync(outside, join(vault, 'Outside'));
  symlinkSync(join(vault, 'Projects', 'api.md'), join(vault, 'api-link.md'));
  return vault;
}
