/**
 * The `successCondition` of a verification check: a tiny expression language over `result`,
 * the value a measurement returned, with the meanings Argo Rollouts gives its conditions
 * (`result < 0.5`, `result[0] >= 0.95`, `len(result) > 0 && result[0] < 1`). It is parsed
 * once, when the configuration is read, into a tree that is then evaluated per measurement:
 * no `eval`, no `Function`, no property access beyond indexing, so a condition in a config
 * file can compute nothing but a comparison.
 *
 * Grammar (lowest precedence first):
 *   or      := and (('||' | 'or') and)*
 *   and     := not (('&&' | 'and') not)*
 *   not     := ('!' | 'not') not | compare
 *   compare := sum (('<' | '<=' | '>' | '>=' | '==' | '!=') sum)?
 *   sum     := product (('+' | '-') product)*
 *   product := unary (('*' | '/' | '%') unary)*
 *   unary   := '-' unary | postfix
 *   postfix := primary ('[' or ']')*
 *   primary := number | 'string' | "string" | true | false | result
 *            | (len | isNaN | isInf | abs) '(' or ')' | '(' or ')'
 *
 * Values are numbers, booleans, strings and lists of numbers (a Prometheus vector). Where a
 * number is expected, a list of exactly one number stands for that number, so
 * `sum(rate(...)) < 0.5` reads as written (Argo needs `result[0] < 0.5`; both work here).
 */

export type Value = number | boolean | string | readonly number[];

/** A condition that cannot be parsed, or cannot be evaluated on a measurement's result. */
export class ExpressionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ExpressionError';
  }
}

type Node =
  | { readonly op: 'lit'; readonly value: Value }
  | { readonly op: 'result' }
  | { readonly op: 'call'; readonly fn: Fn; readonly arg: Node }
  | { readonly op: 'index'; readonly target: Node; readonly index: Node }
  | { readonly op: 'neg' | 'not'; readonly arg: Node }
  | { readonly op: BinaryOp; readonly left: Node; readonly right: Node };

type BinaryOp = '||' | '&&' | '<' | '<=' | '>' | '>=' | '==' | '!=' | '+' | '-' | '*' | '/' | '%';
type Fn = 'len' | 'isNaN' | 'isInf' | 'abs';
const FUNCTIONS: readonly Fn[] = ['len', 'isNaN', 'isInf', 'abs'];

/** A parsed condition; `evaluate` answers whether `result` meets it. */
export interface Condition {
  readonly source: string;
  evaluate(result: Value): boolean;
}

const MAX_LENGTH = 1000;

/** Parses `source`; throws {@link ExpressionError} naming the position of the first problem. */
export function parseCondition(source: string): Condition {
  if (source.length > MAX_LENGTH) throw new ExpressionError(`is longer than ${MAX_LENGTH} characters`);
  const tree = new Parser(tokenize(source)).parseAll();
  return Object.freeze({
    source,
    evaluate(result: Value): boolean {
      const value = evaluate(tree, result);
      if (typeof value !== 'boolean') {
        throw new ExpressionError(`gave ${describe(value)}, not true or false`);
      }
      return value;
    },
  });
}

interface Token {
  readonly kind: 'num' | 'str' | 'id' | 'op' | 'end';
  readonly text: string;
  readonly pos: number;
}

const OPERATORS = [
  '||',
  '&&',
  '<=',
  '>=',
  '==',
  '!=',
  '<',
  '>',
  '+',
  '-',
  '*',
  '/',
  '%',
  '!',
  '(',
  ')',
  '[',
  ']',
];

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < source.length) {
    const rest = source.slice(i);
    const space = /^\s+/.exec(rest);
    if (space) {
      i += space[0].length;
      continue;
    }
    const number = /^(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?/.exec(rest);
    if (number) {
      tokens.push({ kind: 'num', text: number[0], pos: i });
      i += number[0].length;
      continue;
    }
    const word = /^[A-Za-z_][A-Za-z0-9_]*/.exec(rest);
    if (word) {
      tokens.push({ kind: 'id', text: word[0], pos: i });
      i += word[0].length;
      continue;
    }
    const quote = rest[0];
    if (quote === '"' || quote === "'") {
      const end = rest.indexOf(quote, 1);
      if (end < 0) throw new ExpressionError(`has an unterminated string at ${i + 1}`);
      tokens.push({ kind: 'str', text: rest.slice(1, end), pos: i });
      i += end + 1;
      continue;
    }
    const op = OPERATORS.find((o) => rest.startsWith(o));
    if (!op) throw new ExpressionError(`has an unexpected character "${rest[0] ?? ''}" at ${i + 1}`);
    tokens.push({ kind: 'op', text: op, pos: i });
    i += op.length;
  }
  tokens.push({ kind: 'end', text: '', pos: source.length });
  return tokens;
}

class Parser {
  private at = 0;
  constructor(private readonly tokens: readonly Token[]) {}

  parseAll(): Node {
    if (this.peek().kind === 'end') throw new ExpressionError('is empty');
    const node = this.or();
    const next = this.peek();
    if (next.kind !== 'end') throw this.unexpected(next);
    return node;
  }

  private peek(): Token {
    return this.tokens[this.at] ?? { kind: 'end', text: '', pos: 0 };
  }

  private take(): Token {
    const token = this.peek();
    this.at += 1;
    return token;
  }

  private accept(...texts: string[]): string | undefined {
    const token = this.peek();
    if ((token.kind === 'op' || token.kind === 'id') && texts.includes(token.text)) {
      this.at += 1;
      return token.text;
    }
    return undefined;
  }

  private expect(text: string): void {
    const token = this.take();
    if (token.kind !== 'op' || token.text !== text) throw this.unexpected(token, `"${text}"`);
  }

  private unexpected(token: Token, wanted?: string): ExpressionError {
    const what = token.kind === 'end' ? 'the end' : `"${token.text}"`;
    return new ExpressionError(
      `has ${what} at ${token.pos + 1} where ${wanted ?? 'an operator or the end'} was expected`,
    );
  }

  private or(): Node {
    let left = this.and();
    while (this.accept('||', 'or')) left = { op: '||', left, right: this.and() };
    return left;
  }

  private and(): Node {
    let left = this.not();
    while (this.accept('&&', 'and')) left = { op: '&&', left, right: this.not() };
    return left;
  }

  private not(): Node {
    if (this.accept('!', 'not')) return { op: 'not', arg: this.not() };
    return this.compare();
  }

  private compare(): Node {
    const left = this.sum();
    const op = this.accept('<', '<=', '>', '>=', '==', '!=') as BinaryOp | undefined;
    return op ? { op, left, right: this.sum() } : left;
  }

  private sum(): Node {
    let left = this.product();
    for (let op = this.accept('+', '-'); op; op = this.accept('+', '-')) {
      left = { op: op as BinaryOp, left, right: this.product() };
    }
    return left;
  }

  private product(): Node {
    let left = this.unary();
    for (let op = this.accept('*', '/', '%'); op; op = this.accept('*', '/', '%')) {
      left = { op: op as BinaryOp, left, right: this.unary() };
    }
    return left;
  }

  private unary(): Node {
    if (this.accept('-')) return { op: 'neg', arg: this.unary() };
    let node = this.primary();
    while (this.accept('[')) {
      node = { op: 'index', target: node, index: this.or() };
      this.expect(']');
    }
    return node;
  }

  private primary(): Node {
    const token = this.take();
    if (token.kind === 'num') return { op: 'lit', value: Number(token.text) };
    if (token.kind === 'str') return { op: 'lit', value: token.text };
    if (token.kind === 'op' && token.text === '(') {
      const node = this.or();
      this.expect(')');
      return node;
    }
    if (token.kind === 'id') {
      if (token.text === 'result') return { op: 'result' };
      if (token.text === 'true' || token.text === 'false') return { op: 'lit', value: token.text === 'true' };
      if ((FUNCTIONS as readonly string[]).includes(token.text)) {
        this.expect('(');
        const arg = this.or();
        this.expect(')');
        return { op: 'call', fn: token.text as Fn, arg };
      }
      throw new ExpressionError(
        `names "${token.text}" at ${token.pos + 1}: only result, true, false and ${FUNCTIONS.join(', ')} are known`,
      );
    }
    throw this.unexpected(token, 'a value');
  }
}

function evaluate(node: Node, result: Value): Value {
  switch (node.op) {
    case 'lit':
      return node.value;
    case 'result':
      return result;
    case 'call':
      return call(node.fn, evaluate(node.arg, result));
    case 'index': {
      const target = evaluate(node.target, result);
      const index = number(evaluate(node.index, result), 'an index');
      if (!Array.isArray(target)) throw new ExpressionError(`cannot index ${describe(target)}`);
      const list = target as readonly number[];
      const item = Number.isInteger(index) ? list[index] : undefined;
      if (item === undefined) {
        throw new ExpressionError(`has no item [${index}] in a result of ${list.length} values`);
      }
      return item;
    }
    case 'neg':
      return -number(evaluate(node.arg, result), 'the operand of -');
    case 'not':
      return !boolean(evaluate(node.arg, result), 'the operand of !');
    case '||':
      return (
        boolean(evaluate(node.left, result), 'the left of ||') || boolean(evaluate(node.right, result), '||')
      );
    case '&&':
      return (
        boolean(evaluate(node.left, result), 'the left of &&') && boolean(evaluate(node.right, result), '&&')
      );
    case '==':
    case '!=': {
      const [a, b] = [scalar(evaluate(node.left, result)), scalar(evaluate(node.right, result))];
      if (typeof a !== typeof b) throw new ExpressionError(`compares ${describe(a)} with ${describe(b)}`);
      return node.op === '==' ? a === b : a !== b;
    }
    default: {
      const a = number(evaluate(node.left, result), `the left of ${node.op}`);
      const b = number(evaluate(node.right, result), `the right of ${node.op}`);
      return arithmetic(node.op, a, b);
    }
  }
}

function arithmetic(op: BinaryOp, a: number, b: number): Value {
  switch (op) {
    case '<':
      return a < b;
    case '<=':
      return a <= b;
    case '>':
      return a > b;
    case '>=':
      return a >= b;
    case '+':
      return a + b;
    case '-':
      return a - b;
    case '*':
      return a * b;
    case '/':
      return a / b;
    default:
      return a % b;
  }
}

function call(fn: Fn, arg: Value): Value {
  if (fn === 'len') {
    if (Array.isArray(arg)) return arg.length;
    if (typeof arg === 'string') return arg.length;
    throw new ExpressionError(`len() needs a list, not ${describe(arg)}`);
  }
  const n = number(arg, `the argument of ${fn}()`);
  if (fn === 'isNaN') return Number.isNaN(n);
  if (fn === 'isInf') return n === Infinity || n === -Infinity;
  return Math.abs(n);
}

/** A list of exactly one number stands for that number (a one-series Prometheus vector). */
function scalar(value: Value): number | boolean | string {
  if (!Array.isArray(value)) return value as number | boolean | string;
  const list = value as readonly number[];
  if (list.length === 1 && list[0] !== undefined) return list[0];
  throw new ExpressionError(`needs one value where the result has ${list.length}`);
}

function number(value: Value, where: string): number {
  const v = scalar(value);
  if (typeof v !== 'number') throw new ExpressionError(`needs a number for ${where}, not ${describe(v)}`);
  return v;
}

function boolean(value: Value, where: string): boolean {
  if (typeof value !== 'boolean') {
    throw new ExpressionError(`needs true or false for ${where}, not ${describe(value)}`);
  }
  return value;
}

function describe(value: Value): string {
  if (Array.isArray(value)) return `a list of ${(value as readonly number[]).length} values`;
  if (typeof value === 'string') return `the text "${value}"`;
  return `${typeof value} ${String(value)}`;
}
