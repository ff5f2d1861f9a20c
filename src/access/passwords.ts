import { hash, verify } from '@node-rs/argon2';
import { randomBytes } from 'node:crypto';
import { AppError } from '../platform/http/errors.js';

// Algorithm.Argon2id of @node-rs/argon2 (an ambient const enum, not importable as a value here).
const ARGON2ID = 2;

/** Bounds concurrent work; callers beyond `maxWaiting` are refused rather than queued forever. */
export class Semaphore {
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(
    private readonly max: number,
    private readonly maxWaiting = 64,
  ) {}

  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.active >= this.max) {
      if (this.waiting.length >= this.maxWaiting)
        throw new AppError(503, 'busy', 'too many sign-ins at once, retry shortly');
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.active++;
    }
    try {
      return await work();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    }
  }
}

export interface HashingParams {
  memoryKiB: number;
  iterations: number;
  concurrency: number;
}

// A tiny deny-list of the commonest long passwords (ASVS 2.1.7); composition rules are not
// required (ASVS 2.1.9), length is.
const COMMON = new Set([
  'password1234',
  'password12345',
  'password123456',
  '123456789012',
  '1234567890123',
  'qwertyuiop12',
  'qwerty123456',
  '1q2w3e4r5t6y',
  'iloveyou1234',
  'administrator',
  'welcome12345',
  'changeme1234',
  'a1b2c3d4e5f6',
  'aaaaaaaaaaaa',
  '111111111111',
  '000000000000',
  'woaini1314520',
  '5201314520131',
]);

/** Why a password is unacceptable, or undefined. 12–128 characters, not common, not the username. */
export function passwordProblem(password: string, username?: string): string | undefined {
  const length = [...password].length;
  if (length < 12) return 'password must have at least 12 characters';
  if (length > 128) return 'password must have at most 128 characters';
  const lower = password.toLowerCase();
  if (COMMON.has(lower) || /^(.)\1+$/.test(password)) return 'password is too common';
  if (username && lower.includes(username.toLowerCase())) return 'password must not contain the username';
  return undefined;
}

/** A random password for bootstrap and resets: 24 URL-safe characters (144 bits). */
export const randomPassword = (): string => randomBytes(18).toString('base64url');

/** argon2id hashing (PHC strings) under a semaphore: each hash costs memoryKiB of RAM. */
export class PasswordHasher {
  private readonly gate: Semaphore;
  private dummy?: Promise<string>;

  constructor(private readonly params: HashingParams) {
    if (params.memoryKiB < 19456 || params.iterations < 2)
      throw new RangeError('argon2id below m=19456, t=2');
    this.gate = new Semaphore(params.concurrency);
  }

  async hash(password: string): Promise<string> {
    return this.gate.run(() =>
      hash(password, {
        algorithm: ARGON2ID,
        memoryCost: this.params.memoryKiB,
        timeCost: this.params.iterations,
        parallelism: 1,
      }),
    );
  }

  /** Verifies against a stored hash; with no hash (unknown user) burns the same time and fails. */
  async verify(stored: string | null, password: string): Promise<boolean> {
    if (!stored) {
      this.dummy ??= this.hash(randomPassword());
      const dummy = await this.dummy;
      await this.gate.run(() => verify(dummy, password).catch(() => false));
      return false;
    }
    return this.gate.run(() => verify(stored, password).catch(() => false));
  }
}
