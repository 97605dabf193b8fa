/** Schemas shared by routes. */
import { Type } from 'typebox';
import { NAME_PATTERN } from '../../domain/event.js';

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
