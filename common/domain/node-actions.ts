// What an admin may do to a node (CLI, admin API, dashboard). Apart from the database code so
// that the CLI's entry (and the slim node image) can name them without loading pg.
export const nodeActions = ['quarantine', 'reinstate', 'ban'] as const;
export type NodeAction = (typeof nodeActions)[number];
