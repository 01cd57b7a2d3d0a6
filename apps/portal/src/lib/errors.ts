import { TRPCClientError } from '@trpc/client';

/** One problem reported by the API (BAD_REQUEST `data.problems`). */
export interface Problem {
  path: (string | number)[];
  pathText: string;
  message: string;
  code?: string;
}

export interface ApiErrorInfo {
  code: string | undefined;
  message: string;
  problems: Problem[];
  httpStatus: number | undefined;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function toProblem(p: unknown): Problem | undefined {
  if (!isRecord(p) || typeof p.message !== 'string') return undefined;
  const path = Array.isArray(p.path) ? p.path.filter((k): k is string | number => typeof k === 'string' || typeof k === 'number') : [];
  const pathText = typeof p.pathText === 'string' ? p.pathText : path.join('.');
  return { path, pathText, message: p.message, code: typeof p.code === 'string' ? p.code : undefined };
}

/** Pulls the tRPC code, a readable message and any `data.problems` out of an error. */
export function apiError(err: unknown): ApiErrorInfo {
  if (err instanceof TRPCClientError) {
    const data: unknown = err.data;
    const d = isRecord(data) ? data : {};
    const problems = Array.isArray(d.problems) ? d.problems.map(toProblem).filter((p): p is Problem => !!p) : [];
    let message = err.message;
    // zod errors serialised as a JSON array in the message: show something readable instead.
    if (message.startsWith('[') && problems.length === 0) {
      try {
        const issues: unknown = JSON.parse(message);
        if (Array.isArray(issues)) {
          for (const issue of issues) {
            const pr = toProblem({ ...(isRecord(issue) ? issue : {}), pathText: isRecord(issue) && Array.isArray(issue.path) ? issue.path.join('.') : '' });
            if (pr) problems.push(pr);
          }
          message = 'Invalid input';
        }
      } catch {
        /* not JSON: keep the message */
      }
    }
    // "invalid input:\n<one line per problem>": the problems are listed separately.
    if (problems.length > 0) {
      const counted = /^(.*?\(\d+ problems?\))/.exec(message);
      if (counted) message = counted[1]!;
      else if (message.includes('\n')) message = message.split('\n')[0]!.replace(/:$/, '');
    }
    if (message === 'Failed to fetch' || message.includes('fetch failed')) message = 'Cannot reach the HIE manager. Is it running?';
    return {
      code: typeof d.code === 'string' ? d.code : undefined,
      message,
      problems,
      httpStatus: typeof d.httpStatus === 'number' ? d.httpStatus : undefined,
    };
  }
  if (err instanceof Error) return { code: undefined, message: err.message, problems: [], httpStatus: undefined };
  return { code: undefined, message: String(err), problems: [], httpStatus: undefined };
}

export function isUnauthorized(err: unknown): boolean {
  return apiError(err).code === 'UNAUTHORIZED';
}
