export * from './evaluate';
export * from './traps';
export * from './transform';
