/** The item-type API lives in @hie/item-sdk (the one place plugins import it from); the engine uses the same. */
export * from '@hie/item-sdk';
