import { fileURLToPath } from 'node:url';

/** The committed SDL that clients and codegen read. */
export const schemaFile = fileURLToPath(new URL('../../schema.graphql', import.meta.url));
