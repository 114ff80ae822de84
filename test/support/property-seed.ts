/**
 * The seed of the property tests. CI pins it through {@link PROPERTY_SEED_VARIABLE}
 * so a run is reproducible; a local run without it draws a new seed per test file,
 * so the properties keep meeting new inputs. fast-check's failure message names the
 * seed (and the path to the counterexample); `FC_SEED=<seed> npx jest <file>` replays
 * it. A test whose inputs must be particular ones pins its own seed instead, and says why.
 */

/** The environment variable that fixes the seed. */
export const PROPERTY_SEED_VARIABLE = "FC_SEED";

function seedFromEnvironment(): number {
  const text = process.env[PROPERTY_SEED_VARIABLE];
  if (text === undefined || text.trim() === "") return (Math.random() * 2 ** 32) | 0;
  const seed = Number(text);
  if (!Number.isSafeInteger(seed)) throw new Error(`${PROPERTY_SEED_VARIABLE} must be an integer, got ${JSON.stringify(text)}`);
  return seed | 0;
}

const seed = seedFromEnvironment();

/** This test file's property seed: {@link PROPERTY_SEED_VARIABLE} when set, else random, drawn once per file. */
export function propertySeed(): number {
  return seed;
}
