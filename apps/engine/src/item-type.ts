/** The item-type API lives in @hie/item-sdk (the one place plugins import it from); the engine uses the same. */
export {
  apiMajor,
  defineItemType,
  isSingletonType,
  ITEM_TYPE_API_VERSION,
  type CreateContext,
  type ItemContext,
  type ItemHandler,
  type ItemKind,
  type ItemTypeDefinition,
  type Refusal,
  type SendOptions,
  type ServiceContext,
  type SubmitResult,
} from '@hie/item-sdk';
