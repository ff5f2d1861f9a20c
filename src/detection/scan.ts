import { readFileSync, readdirSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { once } from 'node:events';
import { parse as parseYaml } from 'yaml';
import { ZodError } from 'zod';
import { parseCanonicalMessage } from './canonical-schema.js';
import { Engine } from './engine.js';
import { PolicyError } from './rules/errors.js';
import { compilePolicySet, type CompiledPolicySet } from './rules/policy-set.js';
import type { CanonicalMessage } from './types.js';
import { fromWecomMessage, type WecomContext } from './wecom-message.js';

const TEMPLATE_DIR = fileURLToPath(new URL('./templates/', import.meta.url));

/** Names of the bundled policy templates (file names without .yaml). */
export function listTemplates(): string[] {
  return readdirSync(TEMPLATE_DIR)
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => f.slice(0, -'.yaml'.length))
    .sort();
}

function parseDocument(text: string, source: string): unknown {
  try {
    return source.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (e) {
    throw new PolicyError([
      {
        where: `policy file ${source}`,
        path: '',
        message: `not valid ${source.endsWith('.json') ? 'JSON' : 'YAML'}: ${(e as Error).message}`,
      },
    ]);
  }
}

/** The parsed (not yet compiled) document of a bundled template. */
export function templateDocument(name: string): unknown {
  if (!listTemplates().includes(name)) {
    throw new Error(`unknown template "${name}" (available: ${listTemplates().join(', ')}, or all)`);
  }
  return parseDocument(readFileSync(`${TEMPLATE_DIR}${name}.yaml`, 'utf8'), `${name}.yaml`);
}

/** Compiles a bundled template, or every template together for "all". */
export function loadTemplate(name: string): CompiledPolicySet {
  const names = name === 'all' ? listTemplates() : [name];
  return compilePolicySet(names.map(templateDocument));
}

/** Compiles a policy file (YAML, or JSON by extension); the file may hold one set or a list. */
export function compilePolicyFile(path: string): CompiledPolicySet {
  const doc = parseDocument(readFileSync(path, 'utf8'), path);
  return compilePolicySet(Array.isArray(doc) ? doc : [doc]);
}

/** Turns one JSONL value into a canonical message: canonical form if it has conversationId and text, else WeCom form. */
export function toCanonical(value: unknown, ctx?: WecomContext): CanonicalMessage {
  const v = value as Record<string, unknown> | null;
  if (v && typeof v === 'object' && 'conversationId' in v && 'text' in v) return parseCanonicalMessage(v);
  return fromWecomMessage(value, ctx);
}

export interface ScanSummary {
  lines: number;
  messages: number;
  hits: number;
  errors: number;
}

function describeError(e: unknown): string {
  if (e instanceof ZodError)
    return e.issues.map((i) => `${i.path.join('.') || 'message'}: ${i.message}`).join('; ');
  return e instanceof Error ? e.message : String(e);
}

/**
 * Scans JSONL messages (canonical or WeCom format, one per line, each conversation in time order)
 * and writes one JSON line per hit: msgid, rule, category, severity, term, start, end, matched,
 * method. A bad line yields {"error", "line"} and the scan continues.
 */
export async function scanJsonl(
  input: Readable,
  output: Writable,
  policy: CompiledPolicySet,
  ctx?: WecomContext,
): Promise<ScanSummary> {
  const engine = new Engine(policy);
  const summary: ScanSummary = { lines: 0, messages: 0, hits: 0, errors: 0 };
  const write = async (obj: unknown): Promise<void> => {
    if (!output.write(JSON.stringify(obj) + '\n')) await once(output, 'drain');
  };
  const rl = createInterface({ input, crlfDelay: Infinity });
  for await (const line of rl) {
    summary.lines++;
    if (line.trim() === '') continue;
    let message: CanonicalMessage;
    try {
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch (e) {
        throw new Error(`invalid JSON: ${(e as Error).message}`, { cause: e });
      }
      message = toCanonical(value, ctx);
    } catch (e) {
      summary.errors++;
      await write({ error: describeError(e), line: summary.lines });
      continue;
    }
    summary.messages++;
    for (const h of engine.process(message)) {
      summary.hits++;
      await write({
        msgid: h.msgid,
        rule: h.ruleId,
        category: h.category,
        severity: h.severity,
        term: h.term,
        start: h.start,
        end: h.end,
        matched: h.matched,
        method: h.method,
        ...(h.relatedMsgids ? { related: h.relatedMsgids } : {}),
      });
    }
  }
  return summary;
}
