/**
 * Starts `value` with `start` and hands it back; if any step of the start
 * fails, `undo` stops what did start and removes what was made (processes,
 * temporary directories) before the error goes on, so a failed start leaves
 * nothing running for the caller to clean up.
 */
export async function startOrUndo<T>(value: T, start: (value: T) => Promise<void>, undo: (value: T) => Promise<void>): Promise<T> {
  try {
    await start(value);
  } catch (e) {
    await undo(value);
    throw e;
  }
  return value;
}
