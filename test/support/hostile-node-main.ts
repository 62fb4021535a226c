import { startHostileNode, type NodeMode } from './hostile-node.js';

// A hostile (or honest) node as its own process: `tsx test/support/hostile-node-main.ts ORIGIN MODE`.
// Prints `node: URL` once listening; exits on SIGTERM.

const [originUrl, mode] = process.argv.slice(2);
const node = await startHostileNode({ origin: originUrl ?? '', mode: (mode ?? 'honest') as NodeMode });
process.stdout.write(`node: ${node.url}\n`);
process.once('SIGTERM', () => {
  void node.close().then(() => process.exit(0));
});
