import type { FastifyRequest } from 'fastify';

/**
 * Every route declares the permission it needs in `config.permission`; the server refuses to
 * start when one does not, so no endpoint can be added without an access decision.
 * `public` routes need no identity. The access module supplies the authorizer for the rest.
 */
export type Permission = 'public' | `${string}.${string}`;

declare module 'fastify' {
  interface FastifyContextConfig {
    permission?: Permission;
  }
}

/** Decides whether the caller of a request holds a permission; throws AppError when not. */
export type Authorizer = (request: FastifyRequest, permission: Permission) => Promise<void>;
