import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../src/config/config.js';
import { runCli, startServerProcess } from './support/process.js';
import { tempHome } from './support/system.js';

describe('configuration', () => {
  it('defaults to ~/.token-api, 127.0.0.1:7777 and a SQLite file there', () => {
    const c = loadConfig({}, {});
    assert.equal(c.home, join(homedir(), '.token-api'));
    assert.equal(c.host, '127.0.0.1');
    assert.equal(c.port, 7777);
    assert.equal(c.databaseFile, join(homedir(), '.token-api', 'token-api.db'));
    assert.equal(c.instanceExpiryMs, 3 * 3_600_000);
    assert.equal(c.hookBodyLimitBytes, 4 * 1024 * 1024);
    assert.deepEqual(c.devices, []);
  });

  it('layers file < environment < flags', () => {
    const h = tempHome();
    writeFileSync(join(h.dir, 'config.json'), JSON.stringify({ port: 8001, host: '127.0.0.2', log_level: 'debug', instance_expiry_minutes: 30 }));
    const fromFile = loadConfig({}, { TOKEN_API_HOME: h.dir });
    assert.deepEqual([fromFile.port, fromFile.host, fromFile.logLevel, fromFile.instanceExpiryMs], [8001, '127.0.0.2', 'debug', 1_800_000]);
    const fromEnv = loadConfig({}, { TOKEN_API_HOME: h.dir, TOKEN_API_PORT: '8002', TOKEN_API_HOST: '127.0.0.3' });
    assert.deepEqual([fromEnv.port, fromEnv.host], [8002, '127.0.0.3']);
    const fromFlags = loadConfig({ port: 8003, host: '::1' }, { TOKEN_API_HOME: h.dir, TOKEN_API_PORT: '8002' });
    assert.deepEqual([fromFlags.port, fromFlags.host], [8003, '::1']);
    h.cleanup();
  });

  it('explains a config file that is not JSON, or has unknown or wrong keys', () => {
    const h = tempHome();
    const file = join(h.dir, 'config.json');
    writeFileSync(file, '{ port: 1 ');
    assert.throws(() => loadConfig({ home: h.dir }, {}), (e: Error) => e instanceof ConfigError && /not valid JSON/.test(e.message));
    writeFileSync(file, JSON.stringify({ prot: 1, port: 'x' }));
    assert.throws(() => loadConfig({ home: h.dir }, {}), (e: Error) => e instanceof ConfigError && /prot is not a setting token-api knows \(did you mean port\?\)/.test(e.message) && /port is text \("x"\); expected a number/.test(e.message));
    writeFileSync(file, '{}');
    assert.throws(() => loadConfig({ home: h.dir }, { TOKEN_API_PORT: 'seventy' }), /TOKEN_API_PORT/);
    assert.throws(() => loadConfig({ config: join(h.dir, 'missing.json') }, {}), /cannot read config file/);
    h.cleanup();
  });
});

describe('the token-api command', () => {
  it('lists its commands with --help, and each command has --help', async () => {
    const top = await runCli(['--help']);
    assert.equal(top.code, 0);
    assert.match(top.stdout, /Usage: token-api <command>/);
    assert.match(top.stdout, /serve/);
    const serve = await runCli(['serve', '--help']);
    assert.equal(serve.code, 0);
    assert.match(serve.stdout, /--port N/);
  });

  it('says what is wrong with a bad flag or command, with a non-zero exit and no stack trace', async () => {
    const bad = await runCli(['serve', '--port', 'abc']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--port must be a port number/);
    assert.doesNotMatch(bad.stderr, /at .*\.ts:\d+/);
    const unknown = await runCli(['frobnicate']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown command "frobnicate"/);
    const flag = await runCli(['serve', '--nope']);
    assert.equal(flag.code, 2);
  });

  it('refuses a broken config file with a clear message', async () => {
    const h = tempHome();
    writeFileSync(join(h.dir, 'config.json'), 'not json');
    const r = await runCli(['serve', '--home', h.dir, '--port', '0']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /config file .* is not valid JSON/);
    h.cleanup();
  });

  it('says when the port is taken', async () => {
    const a = tempHome();
    const b = tempHome();
    const first = await startServerProcess(a.dir);
    const port = new URL(first.url).port;
    const second = await runCli(['serve', '--home', b.dir, '--port', port]);
    await first.kill('SIGTERM');
    assert.equal(second.code, 2);
    assert.match(second.stderr, /already in use/);
    a.cleanup();
    b.cleanup();
  });

  it('stops cleanly on SIGTERM with exit code 0', async () => {
    const h = tempHome();
    const s = await startServerProcess(h.dir);
    const code = await s.kill('SIGTERM');
    assert.equal(code, 0);
    assert.match(s.stderr(), /SIGTERM: stopping/);
    h.cleanup();
  });
});
