export * from './component.ts';
export * from './conditions.ts';
export * from './diagnostics.ts';
export * from './order.ts';
export * from './readiness.ts';
