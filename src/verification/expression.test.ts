import { describe, expect, it } from 'vitest';
import { ExpressionError, parseCondition, type Value } from './expression.js';

const holds = (source: string, result: Value) => parseCondition(source).evaluate(result);

describe('successCondition', () => {
  it('compares a scalar result', () => {
    expect(holds('result < 0.5', 0.2)).toBe(true);
    expect(holds('result < 0.5', 0.5)).toBe(false);
    expect(holds('result <= 0.5', 0.5)).toBe(true);
    expect(holds('result >= 1e2', 100)).toBe(true);
    expect(holds('result != 3', 3)).toBe(false);
    expect(holds('result == 3', 3)).toBe(true);
  });

  it('indexes a vector and reads a one-value vector as its value', () => {
    expect(holds('result[0] >= 1', [1, 0])).toBe(true);
    expect(holds('result[1] >= 1', [1, 0])).toBe(false);
    expect(holds('result < 0.5', [0.1])).toBe(true);
    expect(holds('len(result) == 0 || result[0] < 0.5', [])).toBe(true);
  });

  it('combines with && and || (and their words), ! and parentheses, with precedence', () => {
    expect(holds('result > 0 && result < 1', 0.5)).toBe(true);
    expect(holds('result > 0 && result < 1', 1.5)).toBe(false);
    expect(holds('result < 0 || result > 1', 1.5)).toBe(true);
    expect(holds('result > 0 and not (result > 1)', 0.5)).toBe(true);
    expect(holds('!(result > 1) || false && false', 2)).toBe(false);
    expect(holds('result * 100 - 5 > 40 % 7 + -1', 0.5)).toBe(true);
    expect(holds('isNaN(result) || abs(result) < 1', NaN)).toBe(true);
    expect(holds('isInf(result)', Infinity)).toBe(true);
  });

  it('refuses what it cannot parse, naming the position', () => {
    for (const [source, message] of [
      ['', 'is empty'],
      ['result <', 'the end at 9'],
      ['result < 0.5 )', '")" at 14'],
      ['process.exit(1)', 'unexpected character "." at 8'],
      ['exit(1)', 'names "exit"'],
      ['result; 1', 'unexpected character ";" at 7'],
      ['result == "x', 'unterminated string'],
      ['constructor', 'names "constructor"'],
    ] as const) {
      expect(() => parseCondition(source), source).toThrow(message);
    }
  });

  it('answers an error, never a guess, when the result does not fit the condition', () => {
    expect(() => holds('result < 0.5', [])).toThrow(ExpressionError);
    expect(() => holds('result < 0.5', [1, 2])).toThrow('needs one value where the result has 2');
    expect(() => holds('result[3] > 1', [1])).toThrow('has no item [3]');
    expect(() => holds('result + 1', 1)).toThrow('not true or false');
    expect(() => holds('result && true', 1)).toThrow('needs true or false');
    expect(() => holds('result == "up"', 1)).toThrow('compares');
  });
});
