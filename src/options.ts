/** Small validators for option objects; each names the field it rejects. */
import { invalidOption } from './errors.js';

export function checkPositiveInt(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
    throw invalidOption(name, 'a positive integer', value);
  }
  return value;
}

export function checkNonNegativeInt(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw invalidOption(name, 'a non-negative integer', value);
  }
  return value;
}

export function checkOneOf<T extends string>(name: string, value: unknown, allowed: readonly T[]): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw invalidOption(name, `one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}`, value);
  }
  return value as T;
}

export function checkBoolean(name: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw invalidOption(name, 'a boolean', value);
  return value;
}

export function checkFunction<T>(name: string, value: unknown): T {
  if (typeof value !== 'function') throw invalidOption(name, 'a function', value);
  return value as T;
}

export function checkString(name: string, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0) throw invalidOption(name, 'a non-empty string', value);
  return value;
}
