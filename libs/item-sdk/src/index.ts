/**
 * @hie/item-sdk — the one stable place to write HIE item types from: `defineItemType`, the handler
 * and context types, the envelope, and the helpers an item needs (host policy, user patterns,
 * typed errors). Built-in types use exactly this API; plugins depend on this package alone.
 */
export {
  apiMajor,
  defineItemType,
  isSingletonType,
  ITEM_TYPE_API_VERSION,
  type CreateContext,
  type DryRun,
  type ItemContext,
  type ItemHandler,
  type ItemKind,
  type ItemTypeDefinition,
  type Refusal,
  type SendOptions,
  type ServiceContext,
  type SubmitResult,
} from './item-type';

// Envelopes: what handlers receive, send and return.
export {
  MessageEnvelope,
  MessageBody,
  CONTENT_TYPES,
  DEFAULT_PRIORITY,
  type CreateEnvelopeOptions,
  type CreateHl7Options,
  type EnvelopeChanges,
  type MessageHeader,
  type JsonValue,
} from '@hie/envelope';

// Host policy: every folder, file and host a setting names is checked against it.
export { assertEgressAllowed, createHostPolicy, ensureFolderInsideRoots, resolveInsideRoots, type HostPolicy } from '@hie/policy';

// Received bytes → envelopes; a file poller's split-and-submit (file.in, sftp.in).
export { envelopeFor, isHl7, submitFileMessages, type FileMessagesOptions } from './files';
// File name templates ({id}, {controlId}, {timestamp}, {PID-3.1} …) and compact UTC stamps.
export { fillTemplate, stamp } from './template';
export { writeFileAtomic } from './atomic-file';

// A service's polling loop.
export { createPoller, type Poller } from './poller';

// Testing an item type without an engine, on real sockets and files.
export { createTestContext, type TestContextRecord } from './test-context';
export { freePort, until } from './net-testing';

// Typed errors (match on `code`), user patterns on a linear-time engine, secret settings.
export { HieError, ensureError, type ErrorKind, compileUserRegex, checkUserRegex, type UserRegex, secret, bindSecretsTo } from '@hie/config';

// zod, the one the engine uses: settings schemas must be zod schemas (the portal's forms come from them).
export { z } from 'zod';
