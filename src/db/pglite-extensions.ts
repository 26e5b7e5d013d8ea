// The PostgreSQL extensions the migrations create, as PGlite loads them: every PGlite that opens a
// Learnloop database (server, CLI, tests, the schema engine's shadow) passes these. pg_trgm: the
// trigram indexes of the learner search (users' name and email).
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';

export const pgliteExtensions = { pg_trgm };
