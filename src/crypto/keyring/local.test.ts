import { spawn } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DecryptionError, KeyringError } from '../errors.js';
import { getOrCreateSecret } from './corp-keys.js';
import { openOrCreateLocalKeyring } from './local.js';

const FAST = { N: 2 ** 14, r: 8, p: 1 }; // tests only; production default is N = 2^17
let dir: string;
let file: string;

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'vigil-keyring-'));
  file = path.join(dir, 'keys', 'keyring.json');
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('local keyring without passphrase', () => {
  it('creates a 0600 file with KEK v1 and wraps/unwraps DEKs bound to their AAD', async () => {
    const kr = await openOrCreateLocalKeyring({ path: file });
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(await kr.currentKekVersion()).toBe(1);
    const dek = Buffer.alloc(32, 7);
    const w = await kr.wrapDek(dek, Buffer.from('scope-a'));
    expect(w.kekVersion).toBe(1);
    expect(await kr.unwrapDek(w, Buffer.from('scope-a'))).toEqual(dek);
    await expect(kr.unwrapDek(w, Buffer.from('scope-b'))).rejects.toBeInstanceOf(DecryptionError);
    await expect(kr.unwrapDek({ ...w, kekVersion: 2 }, Buffer.from('scope-a'))).rejects.toBeInstanceOf(
      KeyringError,
    );
  });

  it('refuses a group- or world-readable key file with a clear error', async () => {
    await openOrCreateLocalKeyring({ path: file });
    await chmod(file, 0o644);
    await expect(openOrCreateLocalKeyring({ path: file })).rejects.toThrow(
      /accessible by group or others.*chmod 600/,
    );
  });

  it('rotates: new versions wrap, old versions still unwrap until destroyed; the current version cannot be destroyed', async () => {
    const kr = await openOrCreateLocalKeyring({ path: file });
    const old = await kr.wrapDek(Buffer.alloc(32, 1), Buffer.from('s'));
    expect(await kr.createKekVersion()).toBe(2);
    expect((await kr.wrapDek(Buffer.alloc(32, 1), Buffer.from('s'))).kekVersion).toBe(2);
    expect(await kr.unwrapDek(old, Buffer.from('s'))).toEqual(Buffer.alloc(32, 1));
    await expect(kr.destroyKekVersion(2)).rejects.toThrow(/current/);
    await kr.destroyKekVersion(1);
    await expect(kr.unwrapDek(old, Buffer.from('s'))).rejects.toThrow(/destroyed/);
    expect(await kr.listKekVersions()).toMatchObject([
      { version: 1, state: 'destroyed' },
      { version: 2, state: 'active' },
    ]);
    expect(await readFile(file, 'utf8')).not.toMatch(/"version": 1,\s*"state": "destroyed",[^}]*material/);
    // a reopened keyring sees the same state, and version numbers are never reused
    const again = await openOrCreateLocalKeyring({ path: file });
    expect(await again.createKekVersion()).toBe(3);
  });

  it('stores, lists, replaces and deletes secrets; rejects bad names', async () => {
    const kr = await openOrCreateLocalKeyring({ path: file });
    await kr.putSecret('wecom/rsa/ww01/v1', Buffer.from('pem1'));
    await kr.putSecret('wecom/rsa/ww01/v2', Buffer.from('pem2'));
    await kr.putSecret('audit/ed25519/default', Buffer.from('ed'));
    expect(await kr.listSecrets('wecom/rsa/ww01/')).toEqual(['wecom/rsa/ww01/v1', 'wecom/rsa/ww01/v2']);
    expect((await kr.getSecret('wecom/rsa/ww01/v2'))?.toString()).toBe('pem2');
    await kr.putSecret('wecom/rsa/ww01/v2', Buffer.from('pem2b'));
    expect((await kr.getSecret('wecom/rsa/ww01/v2'))?.toString()).toBe('pem2b');
    await kr.deleteSecret('wecom/rsa/ww01/v2');
    expect(await kr.getSecret('wecom/rsa/ww01/v2')).toBeUndefined();
    await expect(kr.putSecret('../etc/passwd', Buffer.from('x'))).rejects.toThrow(RangeError);
    await expect(kr.getSecret('a//b')).rejects.toThrow(RangeError);
  });

  it('sees changes made by another keyring instance (another process) on the same file', async () => {
    const a = await openOrCreateLocalKeyring({ path: file });
    const b = await openOrCreateLocalKeyring({ path: file });
    await a.putSecret('corp/ww01/search', Buffer.alloc(32, 9));
    expect(await b.getSecret('corp/ww01/search')).toEqual(Buffer.alloc(32, 9));
    await b.createKekVersion();
    expect(await a.currentKekVersion()).toBe(2);
    const w = await b.wrapDek(Buffer.alloc(32, 3), Buffer.alloc(0));
    expect(await a.unwrapDek(w, Buffer.alloc(0))).toEqual(Buffer.alloc(32, 3));
  });

  it('putSecretIfAbsent keeps the first value so racing creators agree', async () => {
    const a = await openOrCreateLocalKeyring({ path: file });
    const b = await openOrCreateLocalKeyring({ path: file });
    const [x, y] = await Promise.all([
      getOrCreateSecret(a, 'corp/ww01/blob'),
      getOrCreateSecret(b, 'corp/ww01/blob'),
    ]);
    expect(x).toEqual(y);
    expect(await a.putSecretIfAbsent('corp/ww01/blob', Buffer.alloc(32))).toEqual(x);
  });

  it('two processes creating the key file at once end up with one file and one KEK', async () => {
    const script = `
      const { openOrCreateLocalKeyring } = await import(${JSON.stringify(path.resolve('src/crypto/keyring/local.ts'))});
      const kr = await openOrCreateLocalKeyring({ path: process.argv[1] });
      const w = await kr.wrapDek(Buffer.alloc(32, 5), Buffer.from('x'));
      process.stdout.write(w.wrapped.toString('base64'));`;
    const run = (): Promise<string> =>
      new Promise((resolve, reject) => {
        const p = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script, file], {
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let out = '';
        let err = '';
        p.stdout.on('data', (d: Buffer) => (out += d.toString()));
        p.stderr.on('data', (d: Buffer) => (err += d.toString()));
        p.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(err))));
      });
    const outs = await Promise.all([run(), run(), run(), run()]);
    const kr = await openOrCreateLocalKeyring({ path: file });
    expect(await kr.listKekVersions()).toHaveLength(1);
    for (const o of outs)
      expect(
        await kr.unwrapDek({ kekVersion: 1, wrapped: Buffer.from(o, 'base64') }, Buffer.from('x')),
      ).toEqual(Buffer.alloc(32, 5));
  });

  it('rejects a file that is not a key file', async () => {
    await writeFile(file.replace('keys/keyring.json', 'bad.json'), '{"hello":1}', { mode: 0o600 });
    await expect(openOrCreateLocalKeyring({ path: path.join(dir, 'bad.json') })).rejects.toThrow(
      /not a Vigil key file/,
    );
  });
});

describe('local keyring with passphrase', () => {
  it('seals keys (no raw key bytes in the file), stores scrypt params, and rejects a wrong or missing passphrase', async () => {
    const kr = await openOrCreateLocalKeyring({
      path: file,
      passphrase: 'correct horse battery',
      scrypt: FAST,
    });
    await kr.putSecret('audit/ed25519/default', Buffer.from('super-secret-value'));
    const text = await readFile(file, 'utf8');
    const json = JSON.parse(text) as { protection: { mode: string; N: number; r: number; p: number } };
    expect(json.protection).toMatchObject({ mode: 'scrypt', N: 2 ** 14, r: 8, p: 1 });
    expect(text).not.toContain(Buffer.from('super-secret-value').toString('base64'));

    const again = await openOrCreateLocalKeyring({ path: file, passphrase: 'correct horse battery' });
    expect((await again.getSecret('audit/ed25519/default'))?.toString()).toBe('super-secret-value');
    await expect(openOrCreateLocalKeyring({ path: file, passphrase: 'wrong horse battery' })).rejects.toThrow(
      /wrong passphrase/,
    );
    await expect(openOrCreateLocalKeyring({ path: file })).rejects.toThrow(/passphrase-protected/);
  });

  it('detects a tampered sealed entry', async () => {
    await openOrCreateLocalKeyring({ path: file, passphrase: 'correct horse battery', scrypt: FAST });
    const json = JSON.parse(await readFile(file, 'utf8')) as { keks: Array<{ material: string }> };
    const m = Buffer.from(json.keks[0]!.material, 'base64');
    m[20]! ^= 1;
    json.keks[0]!.material = m.toString('base64');
    await writeFile(file, JSON.stringify(json), { mode: 0o600 });
    await expect(
      openOrCreateLocalKeyring({ path: file, passphrase: 'correct horse battery' }),
    ).rejects.toThrow(/failed authentication/);
  });

  it('refuses short passphrases and a passphrase for a file created without one', async () => {
    await expect(openOrCreateLocalKeyring({ path: file, passphrase: 'short' })).rejects.toThrow(
      /at least 12/,
    );
    const other = path.join(dir, 'plain.json');
    await openOrCreateLocalKeyring({ path: other });
    await expect(
      openOrCreateLocalKeyring({ path: other, passphrase: 'correct horse battery' }),
    ).rejects.toThrow(/without a passphrase/);
  });
});
