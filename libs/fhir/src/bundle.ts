import type { Bundle, BundleEntry, Resource } from '@medplum/fhirtypes';
import type { FhirIssue } from './issues';

/** The Bundle types HIE handles as first-class: what `fhir.http.in` accepts and the maps produce. */
export const BUNDLE_TYPES = ['transaction', 'batch', 'collection', 'message'] as const;

/** One of {@link BUNDLE_TYPES}. */
export type FhirBundleType = (typeof BUNDLE_TYPES)[number];

/** A Bundle of one of the first-class types (its `type` narrowed). */
export type TypedBundle<T extends FhirBundleType = FhirBundleType> = Bundle & { type: T };

/** True when the value is a FHIR Bundle (any `type`). */
export function isBundle(value: unknown): value is Bundle {
  return typeof value === 'object' && value !== null && (value as { resourceType?: unknown }).resourceType === 'Bundle';
}

/** True when the value is a Bundle of the given type(s) (default: any of {@link BUNDLE_TYPES}). */
export function isTypedBundle<T extends FhirBundleType>(value: unknown, ...types: T[]): value is TypedBundle<T> {
  if (!isBundle(value)) return false;
  const allowed: readonly string[] = types.length > 0 ? types : BUNDLE_TYPES;
  return typeof value.type === 'string' && allowed.includes(value.type);
}

/** One Bundle entry with where it sits. */
export interface FhirBundleEntry {
  /** 0-based position in `Bundle.entry`. */
  index: number;
  /** FHIRPath of the entry, `Bundle.entry[2]`. */
  path: string;
  /** The entry itself (fullUrl, request, response, …). */
  entry: BundleEntry;
  /** Its resource, when it has one. */
  resource?: Resource;
}

/** The entries of a Bundle, in order, each with its index and FHIRPath. */
export function bundleEntries(bundle: Bundle): FhirBundleEntry[] {
  return (bundle.entry ?? []).map((entry, index) => {
    const out: FhirBundleEntry = { index, path: `Bundle.entry[${index}]`, entry };
    if (entry?.resource) out.resource = entry.resource;
    return out;
  });
}

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH']);

/**
 * The typed-Bundle rules, with each issue at its entry (the R4 invariants bdl-3 and bdl-12 say the
 * same at `Bundle`, without saying which entry):
 * - `transaction`/`batch`: every entry has `request` with `method` and `url`; POST/PUT carry a resource;
 * - other types: no `request`;
 * - `message`: the first entry is a `MessageHeader`;
 * - `collection`/`message`/`transaction`: entries carry a resource (except DELETE/GET requests).
 *
 * @see https://hl7.org/fhir/R4/bundle.html#invs
 */
export function checkBundle(bundle: Record<string, unknown>): FhirIssue[] {
  if (!isBundle(bundle)) return [];
  const issues: FhirIssue[] = [];
  const type = bundle.type;
  const needsRequest = type === 'transaction' || type === 'batch';
  for (const { path, entry, resource } of bundleEntries(bundle)) {
    if (typeof entry !== 'object' || entry === null) continue;
    const request = entry.request;
    if (needsRequest) {
      if (!request) {
        issues.push({ severity: 'error', code: 'required', path: `${path}.request`, message: `a ${type} entry needs a request (method and url)` });
      } else {
        if (typeof request.method !== 'string' || !METHODS.has(request.method)) {
          issues.push({ severity: 'error', code: 'required', path: `${path}.request.method`, message: `a ${type} entry needs request.method (GET, HEAD, POST, PUT, DELETE or PATCH)` });
        }
        if (typeof request.url !== 'string' || request.url === '') {
          issues.push({ severity: 'error', code: 'required', path: `${path}.request.url`, message: `a ${type} entry needs request.url` });
        }
        if ((request.method === 'POST' || request.method === 'PUT') && !resource) {
          issues.push({ severity: 'error', code: 'required', path: `${path}.resource`, message: `a ${request.method} entry needs a resource` });
        }
      }
    } else if (request && type !== 'history') {
      issues.push({ severity: 'error', code: 'invalid', path: `${path}.request`, message: `a ${String(type)} Bundle's entries must not have a request` });
    }
    if ((type === 'collection' || type === 'message') && !resource) {
      issues.push({ severity: 'error', code: 'required', path: `${path}.resource`, message: `a ${type} entry needs a resource` });
    }
  }
  if (type === 'message') {
    const first = bundle.entry?.[0]?.resource;
    if (first?.resourceType !== 'MessageHeader') {
      issues.push({ severity: 'error', code: 'invalid', path: 'Bundle.entry[0].resource', message: 'a message Bundle starts with a MessageHeader' });
    }
  }
  return issues;
}
