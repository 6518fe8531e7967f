// The public names of the session file system; the files behind them stay private.
export type { ISessionFileSystem } from './interface';
export type { SessionFileSystemAttributes, SessionFileSystemOptions, SessionFileSystemProps } from './props';
export { SessionFileSystem } from './session-file-system';
