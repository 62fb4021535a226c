import { generateKeyPairSync, createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { VerityError } from '../common/errors.js';
import { nodeIdFor, rawPublicKey } from '../common/protocol/node-api.js';

// A node's identity is its Ed25519 key pair. It is made once, kept in the data dir readable by
// the volunteer only, and re-used on every start: the balancer knows the node by it.

export const KEY_FILE = 'node-key.pem';

export interface NodeIdentity {
  nodeId: string;
  /** Raw 32-byte public key, base64url. */
  publicKey: string;
  privateKey: KeyObject;
  keyPath: string;
  /** True when this start made the key pair. */
  created: boolean;
  /** Set when the key file is readable by others than its owner. */
  warning: string | null;
}

function fromPrivate(privateKey: KeyObject, keyPath: string, created: boolean, warning: string | null): NodeIdentity {
  const raw = rawPublicKey(createPublicKey(privateKey));
  return { nodeId: nodeIdFor(raw), publicKey: raw.toString('base64url'), privateKey, keyPath, created, warning };
}

async function readExisting(keyPath: string): Promise<NodeIdentity | null> {
  let pem: string;
  try {
    pem = await readFile(keyPath, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new VerityError('NODE_ERR_IDENTITY', `cannot read the node key ${keyPath}: ${(err as Error).message}`, { cause: err });
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch (err) {
    throw new VerityError('NODE_ERR_IDENTITY', `the node key ${keyPath} is not a valid private key (move it away to start as a new node)`, { cause: err });
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new VerityError('NODE_ERR_IDENTITY', `the node key ${keyPath} is not an Ed25519 key`);
  const mode = (await stat(keyPath)).mode & 0o777;
  const warning = (mode & 0o077) !== 0 ? `key file ${keyPath} is readable by others (mode ${mode.toString(8)}); run chmod 600` : null;
  return fromPrivate(key, keyPath, false, warning);
}

/** Loads the key pair from dataDir, or makes one (file mode 0600) on first start. */
export async function loadOrCreateIdentity(dataDir: string): Promise<NodeIdentity> {
  const keyPath = join(dataDir, KEY_FILE);
  try {
    await mkdir(dataDir, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw new VerityError('NODE_ERR_IDENTITY', `cannot create the data dir ${dataDir}: ${(err as Error).message}`, { cause: err });
  }
  const existing = await readExisting(keyPath);
  if (existing) return existing;
  const { privateKey } = generateKeyPairSync('ed25519');
  const pem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
  try {
    // 'wx': if another process made the key in between, we fail here rather than overwrite it.
    await writeFile(keyPath, pem, { mode: 0o600, flag: 'wx' });
    await chmod(keyPath, 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
      const raced = await readExisting(keyPath);
      if (raced) return raced;
    }
    throw new VerityError('NODE_ERR_IDENTITY', `cannot write the node key ${keyPath}: ${(err as Error).message}`, { cause: err });
  }
  return fromPrivate(privateKey, keyPath, true, null);
}
