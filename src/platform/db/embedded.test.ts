import { mkdtempSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { clusterLocation } from './embedded.js';

describe('embedded PostgreSQL location', () => {
  it('keeps the cluster under the data directory when PostgreSQL can reach it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-loc-'));
    chmodSync(dir, 0o755);
    expect(clusterLocation(join(dir, 'data', 'postgres'), { uid: 101 })).toBe(join(dir, 'data', 'postgres'));
    expect(clusterLocation(join(dir, 'data', 'postgres'), undefined)).toBe(join(dir, 'data', 'postgres'));
  });

  it('moves the cluster to /var/lib/vigil when run as root from a private directory', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-loc-')); // mode 0700
    const location = clusterLocation(join(dir, 'data', 'postgres'), { uid: 101 });
    expect(location).toMatch(/^\/var\/lib\/vigil\/embedded-[0-9a-f]{12}$/);
    expect(clusterLocation(join(dir, 'data', 'postgres'), { uid: 101 })).toBe(location); // stable across starts
  });
});
