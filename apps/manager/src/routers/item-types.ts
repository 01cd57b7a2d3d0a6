import { commonItemSchema, listItemTypes } from '../item-types.js';
import { authedProcedure, router } from '../trpc.js';

export const itemTypesRouter = router({
  /** The palette: every item type with the JSON Schema of its settings, and the common settings' schema. */
  list: authedProcedure.query(async ({ ctx }) => ({ types: await listItemTypes(ctx), common: commonItemSchema() })),
});
