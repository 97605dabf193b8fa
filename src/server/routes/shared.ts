/** Schemas shared by routes. */
import { Type } from 'typebox';
import { NAME_PATTERN } from '../../domain/event.js';
import { ShiplogError } from '../../errors.js';

export const ErrorResponse = Type.Object({
  error: Type.Object({
    code: Type.String(),
    message: Type.String(),
    details: Type.Array(Type.Object({ path: Type.String(), message: Type.String() })),
  }),
});

export const Name = Type.String({ pattern: NAME_PATTERN, maxLength: 63 });
export const Limit = Type.Integer({ minimum: 1, maximum: 1000, default: 50 });
export const Cursor = Type.String({ maxLength: 1024 });
export const Time = Type.String({ format: 'date-time' });

export function page<T extends ReturnType<typeof Type.Object>>(item: T) {
  return Type.Object({ items: Type.Array(item), nextCursor: Type.Union([Type.String(), Type.Null()]) });
}

/** Epoch ms of an RFC 3339 query parameter (undefined when absent), or a 400 naming it. */
export function timeParam(time: string | undefined, name: string): number | undefined {
  if (time === undefined) return undefined;
  const value = Date.parse(time);
  if (Number.isNaN(value))
    throw new ShiplogError('SHIPLOG_INVALID_REQUEST', undefined, [
      { path: name, message: 'is not an RFC 3339 time' },
    ]);
  return value;
}
