export * from './load.ts';
export * from './resolve.ts';
export type * from './types.ts';
