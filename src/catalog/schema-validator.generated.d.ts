// Types of schema-validator.generated.js (written by `npm run gen:catalog-validator`).
import type { ErrorObject } from 'ajv';

/** Checks a parsed catalog against src/catalog/schema.ts; the errors of the last call are on `errors`. */
export interface CatalogValidator {
  (data: unknown): boolean;
  errors?: ErrorObject[] | null;
}

export declare const validate: CatalogValidator;
export default validate;
