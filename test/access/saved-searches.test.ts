import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Corp } from '../../src/org/types.js';
import { closeTestPool, createTestCorp } from '../support/db.js';
import { contentHarness, makeUser, signIn, type Client } from './harness.js';

afterAll(closeTestPool);

let corp: Corp;
let alice: Client;
let bob: Client;
const url = () => `/api/v1/corps/${corp.slug}/saved-searches`;

describe('saved searches: each user’s own', () => {
  beforeAll(async () => {
    const { h, pool } = await contentHarness();
    corp = await createTestCorp(pool, 'saved');
    const officer = () => makeUser(h, [{ role: 'compliance_officer', corpId: corp.id }], { totp: true });
    alice = await signIn(h, await officer());
    bob = await signIn(h, await officer());
  });

  it('saves, replaces by name, lists only the owner’s, and lets only the owner delete', async () => {
    const save = (client: Client, name: string, query: string) =>
      client.request({
        method: 'POST',
        url: url(),
        payload: { name, query, filters: { employee: 'alice', msgtypes: ['text'] } },
      });
    expect((await save(alice, '回扣线索', '回扣 OR 返点')).statusCode).toBe(201);
    const replaced = await save(alice, '回扣线索', '回扣 NOT 测试');
    expect(replaced.statusCode).toBe(201);
    expect((await save(bob, 'bob 的', '飞单')).statusCode).toBe(201);

    const mine = (await alice.request({ method: 'GET', url: url() })).json() as {
      items: Array<{ id: string; name: string; query: string; filters: unknown }>;
    };
    expect(mine.items).toEqual([
      expect.objectContaining({
        name: '回扣线索',
        query: '回扣 NOT 测试',
        filters: { employee: 'alice', msgtypes: ['text'] },
      }),
    ]);
    const id = mine.items[0]!.id;
    expect((await bob.request({ method: 'DELETE', url: `${url()}/${id}` })).statusCode).toBe(404);
    expect((await alice.request({ method: 'DELETE', url: `${url()}/${id}` })).statusCode).toBe(204);
    expect(
      ((await alice.request({ method: 'GET', url: url() })).json() as { items: unknown[] }).items,
    ).toEqual([]);
    const bobs = (await bob.request({ method: 'GET', url: url() })).json() as {
      items: Array<{ name: string }>;
    };
    expect(bobs.items.map((s) => s.name)).toEqual(['bob 的']);
  });

  it('rejects filters it does not know', async () => {
    const response = await alice.request({
      method: 'POST',
      url: url(),
      payload: { name: 'x', query: 'y', filters: { sql: 'DROP TABLE users' } },
    });
    expect(response.statusCode).toBe(400);
  });
});
