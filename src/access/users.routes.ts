import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AppError } from '../platform/http/errors.js';
import type { AccessRepository } from './access.repository.js';
import { principalOf } from './authorizer.js';
import { ROLES } from './permissions.js';
import type { Acting, RoleInput, UsersService } from './users.service.js';

const roleView = z.object({
  id: z.string(),
  role: z.string(),
  corpId: z.number().nullable(),
  departmentId: z.number().nullable(),
});

const userView = z.object({
  id: z.string(),
  username: z.string(),
  displayName: z.string().nullable(),
  corpId: z.number().nullable(),
  employeeUserid: z.string().nullable(),
  totpEnrolled: z.boolean(),
  disabled: z.boolean(),
  locked: z.boolean(),
  createdAt: z.date(),
  roles: z.array(roleView),
});

const roleInput = z.object({
  role: z.enum(ROLES),
  corp: z.string().optional(),
  departmentId: z.number().int().optional(),
});

const idParams = z.object({ id: z.string().regex(/^\d+$/) });

/** User administration ('users.manage'). */
export function usersRoutes(deps: { users: UsersService; repo: AccessRepository }): FastifyPluginAsync {
  const acting = (request: FastifyRequest): Acting => {
    const principal = principalOf(request);
    return { actor: principal.actor, ip: request.ip, principal };
  };
  const resolveRole = async (r: z.infer<typeof roleInput>): Promise<RoleInput> => {
    let corpId: number | null = null;
    if (r.corp !== undefined) {
      const found = await deps.repo.corpIdOf(r.corp);
      if (found === undefined) throw new AppError(404, 'not_found', `corp ${r.corp} not found`);
      corpId = found;
    }
    return { role: r.role, corpId, departmentId: r.departmentId ?? null };
  };

  return async (base) => {
    const app = base.withTypeProvider<ZodTypeProvider>();

    app.get(
      '/api/v1/users',
      {
        config: { permission: 'users.manage' },
        schema: { tags: ['users'], response: { 200: z.object({ items: z.array(userView) }) } },
      },
      async () => ({ items: await deps.users.list() }),
    );

    app.post(
      '/api/v1/users',
      {
        config: { permission: 'users.manage' },
        schema: {
          tags: ['users'],
          body: z.object({
            username: z.string().min(2).max(64),
            displayName: z.string().max(200).optional(),
            password: z.string().max(1024).optional(),
            corp: z.string().optional(),
            employeeUserid: z.string().max(64).optional(),
            roles: z.array(roleInput).max(20).default([]),
          }),
          response: { 201: z.object({ user: userView, password: z.string().optional() }) },
        },
      },
      async (request, reply) => {
        const body = request.body;
        const corpId = body.corp !== undefined ? await deps.repo.corpIdOf(body.corp) : null;
        if (corpId === undefined) throw new AppError(404, 'not_found', `corp ${body.corp} not found`);
        const roles = await Promise.all(body.roles.map(resolveRole));
        const created = await deps.users.create(acting(request), {
          username: body.username,
          displayName: body.displayName ?? null,
          password: body.password,
          corpId,
          employeeUserid: body.employeeUserid ?? null,
          roles,
        });
        reply.header('cache-control', 'no-store');
        return reply.status(201).send(created);
      },
    );

    app.post(
      '/api/v1/users/:id/disable',
      { config: { permission: 'users.manage' }, schema: { tags: ['users'], params: idParams } },
      async (request, reply) => {
        await deps.users.setDisabled(acting(request), request.params.id, true);
        return reply.status(204).send();
      },
    );

    app.post(
      '/api/v1/users/:id/enable',
      { config: { permission: 'users.manage' }, schema: { tags: ['users'], params: idParams } },
      async (request, reply) => {
        await deps.users.setDisabled(acting(request), request.params.id, false);
        return reply.status(204).send();
      },
    );

    app.post(
      '/api/v1/users/:id/sign-out',
      {
        config: { permission: 'users.manage' },
        schema: {
          tags: ['users'],
          params: idParams,
          response: { 200: z.object({ sessionsEnded: z.number() }) },
        },
      },
      async (request) => ({
        sessionsEnded: await deps.users.endSessions(acting(request), request.params.id),
      }),
    );

    app.post(
      '/api/v1/users/:id/roles',
      {
        config: { permission: 'users.manage' },
        schema: {
          tags: ['users'],
          params: idParams,
          body: roleInput,
          response: { 201: roleView.omit({}).extend({ userId: z.string() }) },
        },
      },
      async (request, reply) => {
        const assignment = await deps.users.assignRole(
          acting(request),
          request.params.id,
          await resolveRole(request.body),
        );
        return reply.status(201).send(assignment);
      },
    );

    app.delete(
      '/api/v1/users/:id/roles/:assignment',
      {
        config: { permission: 'users.manage' },
        schema: {
          tags: ['users'],
          params: z.object({ id: z.string().regex(/^\d+$/), assignment: z.string().regex(/^\d+$/) }),
        },
      },
      async (request, reply) => {
        await deps.users.removeRole(acting(request), request.params.id, request.params.assignment);
        return reply.status(204).send();
      },
    );
  };
}
