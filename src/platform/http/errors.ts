/** An error with a stable machine-readable code, mapped to one response shape by the server. */
export class AppError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'AppError';
  }
}

export const notFound = (what: string) => new AppError(404, 'not_found', `${what} not found`);
export const unauthorized = () => new AppError(401, 'unauthenticated', 'sign-in required');
export const forbidden = (reason = 'not permitted') => new AppError(403, 'forbidden', reason);

/** The one error body every endpoint returns. */
export interface ErrorBody {
  error: { code: string; message: string; details?: unknown; requestId: string };
}
