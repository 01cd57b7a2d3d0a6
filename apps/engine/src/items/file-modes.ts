/**
 * Permissions of what the file items create. Message files hold patient data: the owner reads and
 * writes, the group (e.g. an interface team reading the output) reads, nobody else gets anything.
 * The process umask can only narrow these.
 */
export const FILE_MODE = 0o640;
/** Folders the file items create: owner full, group may list and enter, nobody else. */
export const DIR_MODE = 0o750;
