import { Holdfast } from '../client.js';
import { ValidationError } from '../errors.js';

/** The client every recipe runs on: refused early so a wrong argument never reaches I/O. */
export function checkClient(hf: unknown): Holdfast {
  if (!(hf instanceof Holdfast)) throw new ValidationError('hf must be a Holdfast client (from connect())');
  return hf;
}

export function checkFunction<F extends (...args: never[]) => unknown>(fn: unknown, what: string): F {
  if (typeof fn !== 'function') throw new ValidationError(`${what} must be a function, got ${typeof fn}`);
  return fn as F;
}
