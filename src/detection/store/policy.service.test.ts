import { afterAll, describe, expect, it } from 'vitest';
import { closeTestPool, createTestCorp, testPool } from '../../../test/support/db.js';
import { AppError } from '../../platform/http/errors.js';
import { listTemplates } from '../scan.js';
import { message } from '../test-support.js';
import { PolicyService, parsePolicySource } from './policy.service.js';
import { PolicyRegistry } from './registry.js';

afterAll(closeTestPool);

/** A small valid policy with ids of its own. */
function policyDoc(id: string, terms: string[] = ['回扣'], extra: Record<string, unknown> = {}) {
  return {
    id,
    name: `策略 ${id}`,
    lexicons: [{ id: 'words', terms }],
    rules: [
      { id: `${id}.words`, name: '词', category: 'bribery', severity: 'high', when: { lexicon: 'words' } },
    ],
    ...extra,
  };
}

async function rejection(p: Promise<unknown>): Promise<AppError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(AppError);
  return e as AppError;
}

describe('policy store', () => {
  it('rejects a malformed rule naming the rule and the problem', async () => {
    const corp = await createTestCorp();
    const service = new PolicyService(testPool());
    const bad = policyDoc('bad1');
    bad.rules.push({
      id: 'bad1.regex',
      name: '坏正则',
      category: 'x',
      severity: 'high',
      when: { regex: '(a' } as never,
    });
    bad.rules.push({
      id: 'bad1.sev',
      name: '级别',
      category: 'x',
      severity: 'urgent',
      when: { lexicon: 'words' },
    });
    const e = await rejection(service.create(corp.id, { document: bad }));
    expect(e.statusCode).toBe(422);
    expect(e.code).toBe('invalid_policy');
    const details = e.details as Array<{ where: string; path: string; message: string }>;
    expect(details).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ where: 'rule bad1.regex', path: 'when.regex' }),
        expect.objectContaining({ where: 'rule bad1.sev', path: 'severity' }),
      ]),
    );
    expect(e.message).toContain('bad1.regex');
    expect(await service.list(corp.id)).toEqual([]);
    // YAML syntax errors are 422 too.
    expect((await rejection(Promise.resolve().then(() => parsePolicySource('a: [')))).statusCode).toBe(422);
  });

  it('versions every save, keeps history, enables and disables', async () => {
    const corp = await createTestCorp();
    const service = new PolicyService(testPool());
    const created = await service.create(corp.id, {
      document: policyDoc('ver'),
      comment: 'first',
      author: { name: 'alice', actor: 'user:1' },
    });
    expect(created).toMatchObject({ key: 'ver', enabled: false, currentVersion: 1, corpId: corp.id });
    const updated = await service.update(created.id, {
      document: policyDoc('ver', ['回扣', '返点']),
      comment: 'add 返点',
      author: { name: 'bob', actor: 'user:2' },
      expectedVersion: 1,
    });
    expect(updated.currentVersion).toBe(2);
    expect(updated.versions.map((v) => [v.version, v.author, v.comment])).toEqual([
      [2, 'bob', 'add 返点'],
      [1, 'alice', 'first'],
    ]);
    expect((await service.version(created.id, 1)).document).toEqual(policyDoc('ver'));
    // A stale editor gets 409; a changed document id gets 422; a broken update keeps version 2.
    expect(
      (await rejection(service.update(created.id, { document: policyDoc('ver'), expectedVersion: 1 })))
        .statusCode,
    ).toBe(409);
    expect((await rejection(service.update(created.id, { document: policyDoc('other') }))).statusCode).toBe(
      422,
    );
    expect((await service.get(created.id)).currentVersion).toBe(2);
    expect((await service.setEnabled(created.id, true)).enabled).toBe(true);
    expect((await service.setEnabled(created.id, false)).enabled).toBe(false);
  });

  it('refuses policy and rule ids that would collide in one compiled set', async () => {
    const corp = await createTestCorp();
    const service = new PolicyService(testPool());
    await service.create(corp.id, { document: policyDoc('dup') });
    expect((await rejection(service.create(corp.id, { document: policyDoc('dup') }))).statusCode).toBe(409);
    const sameRule = policyDoc('dup2');
    sameRule.rules[0]!.id = 'dup.words';
    const e = await rejection(service.create(corp.id, { document: sameRule }));
    expect(e.statusCode).toBe(409);
    expect(e.message).toContain('dup.words');
    // Another corp may use the same ids.
    const other = await createTestCorp();
    await expect(service.create(other.id, { document: policyDoc('dup') })).resolves.toMatchObject({
      key: 'dup',
    });
  });

  it('installs the Chinese templates disabled, once', async () => {
    const corp = await createTestCorp();
    const service = new PolicyService(testPool());
    const first = await service.installTemplates(corp.id);
    expect(first.installed.map((p) => p.template).sort()).toEqual(listTemplates());
    expect(first.installed.every((p) => !p.enabled)).toBe(true);
    expect(first.installed.find((p) => p.key === 'bribery')?.name).toBe('商业贿赂与回扣');
    const again = await service.installTemplates(corp.id);
    expect(again.installed).toEqual([]);
    expect(again.skipped).toHaveLength(listTemplates().length);
  });
});

describe('policy registry', () => {
  it('compiles a corp’s enabled policies and swaps them when another process changes one', async () => {
    const corp = await createTestCorp();
    let now = 1_000_000;
    const registry = new PolicyRegistry(testPool(), { checkIntervalMs: 5_000, now: () => now });
    // The service notifies a different registry: this one must notice through the stamp.
    const service = new PolicyService(testPool());
    const empty = await registry.active(corp.id);
    expect(empty.engine.policy.rules).toHaveLength(0);
    const engine = empty.engine;

    const p = await service.create(corp.id, { document: policyDoc('reg'), enabled: true });
    expect((await registry.active(corp.id)).engine.policy.rules).toHaveLength(0); // within the interval
    now += 5_000;
    const first = await registry.active(corp.id);
    expect(first.engine).toBe(engine); // the same engine, its set swapped
    expect(first.engine.policy.ids).toEqual(['reg']);
    expect(first.sources.get('reg')).toEqual({ policyId: p.id, version: 1 });
    const scan = (text: string) => first.engine.scanMessage(message({ text })).map((h) => h.term);
    expect(scan('给你回扣')).toEqual(['回扣']);
    expect(scan('给你返点')).toEqual([]);

    await service.update(p.id, { document: policyDoc('reg', ['返点']) });
    now += 5_000;
    const second = await registry.active(corp.id);
    expect(second.sources.get('reg')).toEqual({ policyId: p.id, version: 2 });
    expect(scan('给你返点')).toEqual(['返点']);

    await service.setEnabled(p.id, false);
    registry.invalidate(corp.id); // what onChange does in the process that made the change
    expect((await registry.active(corp.id)).engine.policy.rules).toHaveLength(0);
  });
});
