/**
 * The SCRAM-SHA-256 verifier of a password, as PostgreSQL stores it in
 * pg_authid.rolpassword: `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`
 * (base64), computed as RFC 5802 section 3 defines it with SHA-256 (RFC 7677).
 * The setup sends this instead of the password: PostgreSQL stores a
 * password given already in this form as it is, "regardless of
 * password_encryption" (https://www.postgresql.org/docs/current/sql-createrole.html,
 * https://www.postgresql.org/docs/current/auth-password.html), so the plain
 * password never reaches the server, nor its log when a statement fails.
 */
import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'crypto';

/** PostgreSQL's iteration count: fixed before 16, the default of `scram_iterations` since. */
const SCRAM_ITERATIONS = 4096;

/** Salt length PostgreSQL uses (SCRAM_DEFAULT_SALT_LEN). */
const SALT_BYTES = 16;

/**
 * The verifier of `password`. `salt` is random unless given (tests give
 * one to compare with what PostgreSQL computes with the same salt).
 */
export function scramSha256Verifier(password: string, salt: Buffer = randomBytes(SALT_BYTES)): string {
  if (password === '' || password.includes('\0')) {
    throw new Error('password: must be non-empty and hold no NUL character');
  }
  // SaltedPassword := Hi(Normalize(password), salt, i), Hi being PBKDF2 with HMAC-SHA-256.
  const salted = pbkdf2Sync(saslPrep(password), salt, SCRAM_ITERATIONS, 32, 'sha256');
  const storedKey = createHash('sha256').update(hmac(salted, 'Client Key')).digest();
  const serverKey = hmac(salted, 'Server Key');
  return `SCRAM-SHA-256$${SCRAM_ITERATIONS}:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
}

function hmac(key: Buffer, text: string): Buffer {
  return createHmac('sha256', key).update(text).digest();
}

/**
 * SASLprep's mapping and normalization (RFC 4013 section 2.1-2.2): non-ASCII
 * spaces (RFC 3454 table C.1.2) become a space, the characters of table B.1
 * go, then NFKC. The same steps as the `pg` driver the app signs in with, so
 * the verifier matches what the app proves; PostgreSQL does the same, except
 * that it keeps the raw password when the result holds a prohibited
 * character, which no printable ASCII password (what Secrets Manager
 * generates) can.
 */
function saslPrep(password: string): string {
  return password
    .replace(/[\u00A0\u1680\u2000-\u200B\u202F\u205F\u3000]/g, ' ')
    .replace(/[\u00AD\u034F\u1806\u180B-\u180D\u200C\u200D\u2060\uFE00-\uFE0F\uFEFF]/g, '')
    .normalize('NFKC');
}
