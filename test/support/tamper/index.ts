import { benignKinds } from './benign-kinds.js';
import { tamperKinds } from './tamper-kinds.js';
import type { ResponseKind } from './types.js';

export { benignKinds } from './benign-kinds.js';
export { carefulKinds } from './careful-kinds.js';
export { scriptInjection, tamperKinds } from './tamper-kinds.js';
export type { BenignKind, CapturedResponse, ResponseKind, TamperKind, TransformContext } from './types.js';

/** A kind of the corpus by name (tamper or benign); throws on an unknown name. */
export function findKind(name: string): ResponseKind {
  const k = [...tamperKinds, ...benignKinds].find((x) => x.name === name);
  if (!k) throw new Error(`no tamper or benign kind is named ${name}`);
  return k;
}
