import { afterAll, describe, expect, it } from 'vitest';
import { closeTestPool, createTestCorp, testPool } from '../support/db.js';
import { testArchive, textMessage } from '../support/archive.js';
import { chineseChatTexts } from '../support/chinese-corpus.js';
import { prng } from '../support/prng.js';

afterAll(closeTestPool);

const CORPUS = Number(process.env.VIGIL_SEARCH_ORACLE_SIZE ?? 100_000);

describe('blind-index search against a decrypt-and-scan oracle', () => {
  it(
    `returns exactly the messages containing each phrase of 1 to 8 characters (${CORPUS} messages)`,
    { timeout: 900_000 },
    async () => {
      const pool = testPool();
      const corp = await createTestCorp(pool, 'oracle');
      const { archive } = await testArchive(pool);
      const start = Date.UTC(2026, 0, 1);
      let batch = [];
      let i = 0;
      for (const text of chineseChatTexts(CORPUS, 7)) {
        batch.push(textMessage(`o${i}`, text, new Date(start + i * 60_000)));
        i++;
        if (batch.length === 1000) {
          await archive.storeBatch(corp.id, batch);
          batch = [];
        }
      }
      await archive.storeBatch(corp.id, batch);
      await pool.query('ANALYZE messages');

      // The oracle: decrypt every message of the corp and scan the plaintext.
      const plaintexts = new Map<string, string>();
      let cursor: string | undefined;
      do {
        const page = await archive.search(corp.id, '', {}, { cursor, limit: 500 });
        for (const hit of page.hits) {
          if (hit.message.content.state !== 'ok') throw new Error(`${hit.message.msgid} unreadable`);
          plaintexts.set(
            hit.message.msgid,
            (JSON.parse(hit.message.content.raw) as { text: { content: string } }).text.content,
          );
        }
        cursor = page.next ?? undefined;
      } while (cursor);
      expect(plaintexts.size).toBe(CORPUS);

      const random = prng(99);
      const texts = [...plaintexts.values()];
      const phrases: string[] = [];
      for (let length = 1; length <= 8; length++) {
        let tries = 0;
        while (phrases.filter((p) => [...p].length === length).length < 3 && tries++ < 10_000) {
          const text = texts[Math.floor(random() * texts.length)]!;
          const cjkRuns = text.match(/[\u4e00-\u9fff]+/g) ?? [];
          const run = cjkRuns.find((r) => r.length >= length);
          if (!run) continue;
          const from = Math.floor(random() * (run.length - length + 1));
          const phrase = run.slice(from, from + length);
          // Keep one-character queries to rarer characters so the check stays quick.
          if (length === 1 && texts.filter((t) => t.includes(phrase)).length > 3000) continue;
          if (!phrases.includes(phrase)) phrases.push(phrase);
        }
      }
      phrases.push('不存在的短语', '回扣返点'); // most likely absent: must return nothing wrongly
      expect(phrases.length).toBeGreaterThanOrEqual(26);

      for (const phrase of phrases) {
        const expected = [...plaintexts]
          .filter(([, t]) => t.includes(phrase))
          .map(([id]) => id)
          .sort();
        const found: string[] = [];
        let next: string | undefined;
        do {
          const page = await archive.search(corp.id, `"${phrase}"`, {}, { cursor: next, limit: 500 });
          found.push(...page.hits.map((h) => h.message.msgid));
          next = page.next ?? undefined;
        } while (next);
        expect({ phrase, found: found.sort() }).toEqual({ phrase, found: expected });
      }
    },
  );
});
