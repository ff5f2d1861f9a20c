import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyPluginAsync } from 'fastify';
import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import {
  hasZodFastifySchemaValidationErrors,
  jsonSchemaTransform,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import type { VigilConfig } from '../config/schema.js';
import type { Logger } from '../logging/logger.js';
import { AppError, type ErrorBody } from './errors.js';
import type { Metrics } from './metrics.js';
import type { Authorizer, Permission } from './permissions.js';
import { VERSION } from '../version.js';

export type App = FastifyInstance;

/** A registered route and the permission it declares: what the authorization matrix test walks. */
export interface RouteInfo {
  method: string;
  url: string;
  permission: Permission;
}

declare module 'fastify' {
  interface FastifyInstance {
    routeTable: RouteInfo[];
  }
}

export interface HttpDeps {
  config: VigilConfig;
  logger: Logger;
  metrics: Metrics;
  authorize: Authorizer;
  /** Module route plugins, registered under the API. */
  routes: FastifyPluginAsync[];
}

/** Builds the HTTP server: security headers, rate limits, one error shape, OpenAPI, metrics. */
export async function buildHttpServer(deps: HttpDeps): Promise<FastifyInstance> {
  const { config } = deps;
  const app = Fastify({
    loggerInstance: deps.logger,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && /^[\w-]{8,64}$/.test(given) ? given : randomUUID();
    },
    trustProxy: config.server.trustProxy,
    bodyLimit: 10 * 1024 * 1024,
    ...httpsOptions(config),
  }).withTypeProvider<ZodTypeProvider>();

  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);

  // No route without an access decision: fail at start-up rather than ship an open endpoint.
  const routeTable: RouteInfo[] = [];
  app.decorate('routeTable', routeTable);
  app.addHook('onRoute', (route) => {
    const permission = route.config?.permission;
    if (!permission && !route.url.startsWith('/api/docs')) {
      throw new Error(`route ${route.method} ${route.url} declares no permission`);
    }
    for (const method of [route.method].flat()) {
      if (permission && method !== 'HEAD') routeTable.push({ method, url: route.url, permission });
    }
  });
  // Before validation: a caller without the permission learns nothing about what a valid request is.
  app.addHook('preValidation', async (request) => {
    const permission = request.routeOptions.config.permission;
    if (permission && permission !== 'public') await deps.authorize(request, permission);
  });
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  app.addHook('onResponse', async (request, reply) => {
    deps.metrics.httpDuration
      .labels(request.method, request.routeOptions.url ?? 'unmatched', String(reply.statusCode))
      .observe(reply.elapsedTime / 1000);
  });

  await app.register(helmet, {
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", 'data:', 'blob:'],
        mediaSrc: ["'self'", 'blob:'],
        connectSrc: ["'self'"],
        objectSrc: ["'none'"],
        frameAncestors: ["'none'"],
        baseUri: ["'self'"],
        formAction: ["'self'"],
      },
    },
    hsts: config.server.tls.cert ? { maxAge: 31536000 } : false,
  });
  await app.register(rateLimit, {
    max: config.server.rateLimitPerMinute,
    timeWindow: '1 minute',
    allowList: (request) => ['/healthz', '/readyz', '/metrics'].includes(request.url),
  });
  await app.register(swagger, {
    openapi: {
      info: {
        title: 'Vigil API',
        version: VERSION,
        description: 'Compliance archive and supervision for WeCom',
      },
    },
    transform: jsonSchemaTransform,
  });
  await app.register(swaggerUi, { routePrefix: '/api/docs', staticCSP: true });
  app.get('/api/openapi.json', { config: { permission: 'public' }, schema: { hide: true } }, async () =>
    app.swagger(),
  );

  app.setErrorHandler((error: FastifyError, request, reply) => {
    const body = toErrorBody(error, request.id);
    if (reply.statusCode >= 500 || !body.status || body.status >= 500) {
      request.log.error({ err: error }, 'request failed');
    }
    return reply.status(body.status).send({ error: body.error } satisfies ErrorBody);
  });
  app.setNotFoundHandler({ preHandler: undefined }, (request, reply) =>
    reply.status(404).send({
      error: {
        code: 'not_found',
        message: `no route for ${request.method} ${request.url.split('?')[0]}`,
        requestId: request.id,
      },
    } satisfies ErrorBody),
  );

  for (const routes of deps.routes) await app.register(routes);
  return app as unknown as FastifyInstance;
}

function toErrorBody(error: FastifyError, requestId: string): { status: number; error: ErrorBody['error'] } {
  if (error instanceof AppError) {
    return {
      status: error.statusCode,
      error: { code: error.code, message: error.message, details: error.details, requestId },
    };
  }
  if (hasZodFastifySchemaValidationErrors(error)) {
    return {
      status: 400,
      error: { code: 'validation_failed', message: error.message, details: error.validation, requestId },
    };
  }
  if (error.statusCode === 429) {
    return { status: 429, error: { code: 'rate_limited', message: error.message, requestId } };
  }
  if (error.statusCode && error.statusCode < 500) {
    return {
      status: error.statusCode,
      error: { code: (error.code ?? 'bad_request').toLowerCase(), message: error.message, requestId },
    };
  }
  return { status: 500, error: { code: 'internal_error', message: 'internal error', requestId } };
}

function httpsOptions(config: VigilConfig): { https?: Record<string, unknown> } {
  const tls = config.server.tls;
  if (!tls.cert || !tls.key) return {};
  return {
    https: {
      cert: readPem(tls.cert),
      key: readPem(tls.key),
      minVersion: 'TLSv1.3',
      ...(tls.clientCa
        ? { ca: readPem(tls.clientCa), requestCert: true, rejectUnauthorized: tls.requireClientCert }
        : {}),
    },
  };
}

/** Accepts PEM text or a path to a PEM file. */
function readPem(value: string): string {
  return value.includes('-----BEGIN') ? value : readFileSync(value, 'utf8');
}
