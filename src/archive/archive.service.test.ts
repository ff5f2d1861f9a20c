import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { closeTestPool, createTestCorp, testPool } from '../../test/support/db.js';
import { testArchive, textMessage } from '../../test/support/archive.js';
import { openBlobStore } from '../wecom/connector/runtime.js';

afterAll(closeTestPool);

const day = (iso: string) => new Date(`${iso}T10:00:00Z`);

describe('encrypted archive', () => {
  it('archives each msgid exactly once and reads it back decrypted', async () => {
    const corp = await createTestCorp();
    const { archive } = await testArchive(testPool());
    const batch = [
      textMessage('m1', '你好，合同已发你邮箱', day('2026-10-02')),
      textMessage('m2', '收到', day('2026-10-02')),
    ];
    expect(await archive.storeBatch(corp.id, batch)).toEqual({ inserted: 2, duplicates: [] });
    expect(
      await archive.storeBatch(corp.id, [...batch, textMessage('m3', '好的', day('2026-10-03'))]),
    ).toEqual({
      inserted: 1,
      duplicates: ['m1', 'm2'],
    });
    const message = await archive.getMessage(corp.id, 'm1');
    expect(message?.content).toEqual({ state: 'ok', raw: batch[0]!.raw });
    const { rows } = await testPool().query('SELECT count(*)::int AS n FROM messages WHERE corp_id = $1', [
      corp.id,
    ]);
    expect(rows[0].n).toBe(3);
  });

  it('refuses content that was altered or moved to another row', async () => {
    const corp = await createTestCorp();
    const { archive } = await testArchive(testPool());
    await archive.storeBatch(corp.id, [
      textMessage('a', '甲方内容', day('2026-10-05')),
      textMessage('b', '乙方内容', day('2026-10-05')),
    ]);
    const pool = testPool();
    await pool.query(
      `UPDATE messages SET content = set_byte(content, length(content) - 5, get_byte(content, length(content) - 5) # 1)
       WHERE corp_id = $1 AND msgid = 'a'`,
      [corp.id],
    );
    await pool.query(
      `UPDATE messages SET content = (SELECT content FROM messages WHERE corp_id = $1 AND msgid = 'a')
       WHERE corp_id = $1 AND msgid = 'b'`,
      [corp.id],
    );
    for (const msgid of ['a', 'b']) {
      const message = await archive.getMessage(corp.id, msgid);
      expect(message?.content.state).toBe('unreadable');
      expect(message?.content).toMatchObject({ reason: expect.stringMatching(/authentication failed/) });
    }
  });

  it('reports shredded months as destroyed by retention and leaves other months readable', async () => {
    const corp = await createTestCorp();
    const { archive, envelope } = await testArchive(testPool());
    await archive.storeBatch(corp.id, [
      textMessage('old', '九月的消息', day('2026-09-10')),
      textMessage('new', '十月的消息', day('2026-10-10')),
    ]);
    await envelope.shredScope({ corpId: String(corp.id), month: '2026-09', retentionClass: 'standard' });
    expect((await archive.getMessage(corp.id, 'old'))?.content).toEqual({ state: 'destroyed' });
    expect((await archive.getMessage(corp.id, 'new'))?.content.state).toBe('ok');
    const page = await archive.search(corp.id, '消息');
    expect(page.hits.map((h) => [h.message.msgid, h.message.content.state])).toEqual([
      ['new', 'ok'],
      ['old', 'destroyed'],
    ]);
  });

  it('searches Chinese phrases with AND / OR / NOT, filters, highlights and keyset paging', async () => {
    const corp = await createTestCorp();
    const { archive } = await testArchive(testPool());
    const texts = [
      '这单的回扣按老规矩',
      '来回扣款的事明天说',
      '返点可以谈',
      '回扣和返点都别提',
      '正常报价单',
      'Huikou 测试 ABC123',
    ];
    await archive.storeBatch(
      corp.id,
      texts.map((t, i) => textMessage(`s${i}`, t, new Date(Date.UTC(2026, 9, 1, 8, i)))),
    );
    const ids = async (q: string, filters = {}) =>
      (await archive.search(corp.id, q, filters)).hits.map((h) => h.message.msgid);
    expect(await ids('回扣')).toEqual(['s3', 's1', 's0']);
    expect(await ids('"回扣" NOT 扣款')).toEqual(['s3', 's0']);
    expect(await ids('回扣 AND 返点')).toEqual(['s3']);
    expect(await ids('老规矩 OR 报价')).toEqual(['s4', 's0']);
    expect(await ids('huikou abc123')).toEqual(['s5']);
    expect(await ids('回扣', { to: new Date(Date.UTC(2026, 9, 1, 8, 2)) })).toEqual(['s1', 's0']);
    const hit = (await archive.search(corp.id, '回扣')).hits[0]!;
    expect(hit.highlight?.ranges).toEqual([{ start: 0, end: 2 }]);
    const first = await archive.search(corp.id, '回扣', {}, { limit: 2 });
    expect(first.hits.map((h) => h.message.msgid)).toEqual(['s3', 's1']);
    const second = await archive.search(corp.id, '回扣', {}, { limit: 2, cursor: first.next! });
    expect(second.hits.map((h) => h.message.msgid)).toEqual(['s0']);
    expect(second.next).toBeNull();
  });

  it('keeps a canary out of the PostgreSQL data directory and the blob store in every encoding', async () => {
    const pool = testPool();
    const { rows } = await pool.query<{ dir: string }>("SELECT current_setting('data_directory') AS dir");
    const dataDir = rows[0]!.dir;
    const canary = 'VIGIL-CANARY-金丝雀-7f3a9c';
    const corp = await createTestCorp();
    const { archive, keyring } = await testArchive(pool);
    await archive.storeBatch(
      corp.id,
      Array.from({ length: 50 }, (_, i) =>
        textMessage(`c${i}`, `客户资料 ${canary} 第${i}份`, day('2026-10-12')),
      ),
    );
    expect((await archive.search(corp.id, canary)).hits).toHaveLength(50);
    // Media go to the blob store: a file full of canaries, stored as the pipeline stores media.
    const blobDir = mkdtempSync(join(tmpdir(), 'vigil-blob-canary-'));
    const blobs = openBlobStore(blobDir, keyring);
    const media = Buffer.from(`PDF… ${canary} `.repeat(5000));
    const put = await blobs.put(String(corp.id), media);
    expect((await blobs.getBuffer(String(corp.id), put.address)).equals(media)).toBe(true);

    await pool.query('CHECKPOINT');
    const needles = [
      Buffer.from(canary, 'utf8'),
      Buffer.from(canary, 'utf16le'),
      Buffer.from(canary, 'utf16le').swap16(),
    ];
    expect(scanTree(dataDir, needles)).toEqual([]);
    expect(scanTree(blobDir, needles)).toEqual([]);
    // The scan finds plaintext where there is some: the check can fail.
    writeFileSync(join(blobDir, 'plain.txt'), media);
    expect(scanTree(blobDir, needles)).toEqual([join(blobDir, 'plain.txt')]);
  });
});

/** Files under `dir` containing any needle (files we may not read are reported too). */
function scanTree(dir: string, needles: Buffer[]): string[] {
  const hits: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const stat = statSync(path, { throwIfNoEntry: false });
    if (!stat) continue; // removed while scanning (temporary files)
    if (stat.isDirectory()) hits.push(...scanTree(path, needles));
    else if (stat.isFile()) {
      let bytes: Buffer;
      try {
        bytes = readFileSync(path);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw err;
      }
      if (needles.some((n) => bytes.includes(n))) hits.push(path);
    }
  }
  return hits;
}
