import { createLogger } from '../../common/log.js';
import type { ToHost } from '../browser/host-protocol.js';
import { serveRenderHost } from './serve.js';

// The rendering process (started by the auditor over an IPC pipe, as an unprivileged user when
// the auditor runs as root, with an environment of its own: no DATABASE_URL, no audit secret).
// It dies with its parent: a lost pipe ends it.

serveRenderHost(
  {
    send: (message) => {
      process.send?.(message);
    },
    onMessage: (handler) => process.on('message', (m) => handler(m as ToHost)),
  },
  (level) => createLogger({ level, name: 'auditor-render' }),
  () => process.exit(0),
);
process.on('disconnect', () => process.exit(0));
