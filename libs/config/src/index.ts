export * from './errors';
export * from './common-settings';
export * from './production';
export * from './validate';
export * from './json-schema';
export * from './cycles';
export * from './item-types';
export * from './secrets';
