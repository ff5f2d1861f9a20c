import { createSocket } from 'node:dgram';
import { hostname } from 'node:os';
import { canonicalJson } from './canonical.js';
import type { AuditEvent } from './types.js';

// RFC 5424 facility 13 = "log audit". SD-ID uses 32473, the private enterprise number RFC 5612
// reserves for documentation; deployments with their own PEN can change it here.
const FACILITY = 13;
const SD_ID = 'vigil@32473';
const SEVERITY = { allowed: 6, denied: 4, failed: 3 } as const;

const sdValue = (v: string) => v.replace(/[\\"\]]/g, (c) => `\\${c}`);
const printable = (v: string, max: number) => v.replace(/[^\x21-\x7e]/g, '_').slice(0, max) || '-';

/** One audit entry as an RFC 5424 line; MSG is the entry as canonical JSON. */
export function toSyslogLine(e: AuditEvent, host = hostname()): string {
  const pri = FACILITY * 8 + SEVERITY[e.result];
  const params: [string, string | null][] = [
    ['seq', e.seq],
    ['kind', e.kind],
    ['corp', e.corpId === null ? null : String(e.corpId)],
    ['actor', e.actor],
    ['ip', e.actorIp],
    ['result', e.result],
    ['resourceType', e.resourceType],
    ['resourceIds', e.resourceIds.length ? e.resourceIds.join(',') : null],
    ['hash', e.hash.toString('hex')],
    ['prevHash', e.prevHash.toString('hex')],
  ];
  const sd = `[${SD_ID}${params
    .filter(([, v]) => v !== null)
    .map(([k, v]) => ` ${k}="${sdValue(v!)}"`)
    .join('')}]`;
  const msg = canonicalJson({ reason: e.reason, details: e.details });
  return `<${pri}>1 ${e.occurredAt.toISOString()} ${printable(host, 255)} vigil - ${printable(e.action, 32)} ${sd} ${msg}`;
}

/** A checkpoint note as one RFC 5424 line (newlines escaped as \n in MSG). */
export function checkpointSyslogLine(
  cp: { id: string; treeSize: number; note: string; createdAt: Date; signatureAlg?: string },
  host = hostname(),
): string {
  const pri = FACILITY * 8 + 5;
  const alg = cp.signatureAlg ? ` alg="${sdValue(cp.signatureAlg)}"` : '';
  const sd = `[${SD_ID} checkpoint="${sdValue(cp.id)}" size="${cp.treeSize}"${alg}]`;
  return `<${pri}>1 ${cp.createdAt.toISOString()} ${printable(host, 255)} vigil - audit.checkpoint ${sd} ${JSON.stringify(cp.note)}`;
}

/** Sends lines to a syslog collector over UDP (RFC 5426), one datagram each. */
export async function sendSyslogUdp(lines: string[], target: { host: string; port: number }): Promise<void> {
  if (lines.length === 0) return;
  const socket = createSocket(target.host.includes(':') ? 'udp6' : 'udp4');
  try {
    for (const line of lines)
      await new Promise<void>((resolve, reject) =>
        socket.send(Buffer.from(line, 'utf8'), target.port, target.host, (err) =>
          err ? reject(err) : resolve(),
        ),
      );
  } finally {
    socket.close();
  }
}
