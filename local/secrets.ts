/** 48 random-looking characters: a valid cookie-sealing secret for runs on this machine (never one for AWS). */
export const SECRET_A = 'a'.repeat(16) + 'Z3kq9XbT0pLmN4vR8sW2yU6cE1fH5jK7';
/** A second one, for rotation. */
export const SECRET_B = 'b'.repeat(16) + 'Q7wE3rT9yU1iO5pA2sD8fG4hJ6kL0zX';
/** A key that signs session ids (`SESSION_ID_KEYS`) on this machine. */
export const ID_KEY = 'k'.repeat(16) + 'N8vB2xM5zQ1wE7rT4yU0iO3pA6sD9fGh';
