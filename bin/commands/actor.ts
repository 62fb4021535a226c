import { userInfo } from 'node:os';

/** Who runs a CLI admin command, for the admin log: the operating-system user on the database host. */
export function cliActor(): string {
  try {
    return `cli:${userInfo().username}`;
  } catch {
    return 'cli';
  }
}
