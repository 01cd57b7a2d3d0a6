import bcrypt from 'bcryptjs';

/**
 * bcrypt cost factor. bcryptjs is pure JS: 10 rounds ≈ 60–80 ms per hash on these machines,
 * slow enough to make guessing expensive, fast enough not to stall the event loop for long.
 */
const ROUNDS = 10;

/** A hash of a password nobody has: compared against when the username is unknown, so a failed
 * login takes as long whether or not the user exists. */
const DUMMY_HASH = bcrypt.hashSync('hie-no-such-user', ROUNDS);

export function hashPassword(password: string): Promise<string> {
  return bcrypt.hash(password, ROUNDS);
}

/** True when `password` matches `hash`; with no hash, spends the same time and answers false. */
export async function verifyPassword(password: string, hash: string | undefined): Promise<boolean> {
  const ok = await bcrypt.compare(password, hash ?? DUMMY_HASH);
  return hash !== undefined && ok;
}
