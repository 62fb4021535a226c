import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

// A request refused for its framing poisons its connection: Node parses pipelined requests
// synchronously, one after another, so marking the socket before the next one is parsed lets
// us drop everything behind it (a body we did not read, a request smuggled in it).

const poisoned = new WeakSet<Socket>();

function destroySocket(this: ServerResponse): void {
  this.socket?.destroy();
}

/** Marks the connection: no later request on it is served, and it closes after this response. */
export function poisonConnection(res: ServerResponse): void {
  // HTTP/2 frames every request on its own: nothing can be smuggled behind one, and the
  // response's `Connection: close` becomes a graceful GOAWAY (edge/h2-compat.ts).
  if ('stream' in res) return;
  if (res.socket) poisoned.add(res.socket);
  res.once('finish', destroySocket);
}

export function isPoisoned(socket: Socket): boolean {
  return poisoned.has(socket);
}
