/**
 * The derivatives journal of an earlier release. Derivatives live in the engine: their commands
 * go into the engine's one journal. An earlier release kept them in a journal of their own
 * beside it, `derivatives.sqlite` in the data folder, or the schema `fulcrum_derivatives` of the
 * PostgreSQL database. This release does not read it: `run` and `verify` say so in one warning
 * and carry on with the engine's journal, leaving that one as it is.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { isPostgresUrl, postgresSchemaLocation } from './postgresStore.js';

/** The earlier release's derivatives journal in a data folder. */
export const FORMER_DERIVATIVES_FILE = 'derivatives.sqlite';

/** Its PostgreSQL schema, beside the engine's (`fulcrum`). */
export const FORMER_DERIVATIVES_SCHEMA = 'fulcrum_derivatives';

/**
 * Where `data` (a folder or a `postgres://` URL) holds a derivatives journal written by an
 * earlier release, or null. Looks only: nothing is opened for writing, created or locked.
 */
export async function formerDerivativesJournal(
  data: string,
  schema = FORMER_DERIVATIVES_SCHEMA,
): Promise<string | null> {
  if (isPostgresUrl(data)) return postgresSchemaLocation(data, schema);
  const path = join(data, FORMER_DERIVATIVES_FILE);
  return existsSync(path) ? path : null;
}

/** The one line that says so. */
export function formerDerivativesNote(location: string): string {
  return (
    `${location} holds the derivatives journal of an earlier release, which this release does ` +
    `not read: its commands are not applied (derivatives are commands of the engine's journal ` +
    `now) and it is left as it is`
  );
}
