// Types of schema-validator.generated.js (ajv standalone code for schema.ts).
import type { ErrorObject } from 'ajv';

declare const validate: ((data: unknown) => boolean) & { errors?: ErrorObject[] | null };
export default validate;
