// `npm run schema`: writes the SDL of the built schema to schema.graphql (a test checks it is current).
import { writeFile } from 'node:fs/promises';
import { printSchema } from 'graphql';
import { schema } from './index.ts';
import { schemaFile } from './sdl-file.ts';

await writeFile(schemaFile, `${printSchema(schema)}\n`);
console.log(`wrote ${schemaFile}`);
