/**
 * Where a JSON text stops being JSON, as `line L, column C: what`. The
 * engine's own messages do not say it on Node 20 ("Unexpected token '}', ...
 * is not valid JSON"), and a person fixing a config file needs the place.
 * Used only after `JSON.parse` failed, so it need not build the value.
 */
export function jsonErrorAt(text: string): string {
  const { offset, message } = locate(text);
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return `line ${line}, column ${offset - lineStart + 1}: ${message}`;
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const STRING = /"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/y;
const LITERAL = /true|false|null/y;

/** The first offset at which `text` is not JSON, and why. Iterative: deep nesting cannot overflow the stack. */
function locate(text: string): { offset: number; message: string } {
  let i = 0;
  const stack: string[] = [];
  const ws = (): void => {
    while (i < text.length && ' \t\n\r'.includes(text[i]!)) i++;
  };
  const fail = (expected: string): { offset: number; message: string } => ({
    offset: i,
    message: i >= text.length ? `unexpected end of input, expected ${expected}` : `unexpected ${JSON.stringify(text[i])}, expected ${expected}`,
  });
  const match = (re: RegExp): boolean => {
    re.lastIndex = i;
    if (!re.test(text)) return false;
    i = re.lastIndex;
    return true;
  };
  /** A key and its colon; what was expected instead when they are not there. */
  const key = (orClose: string): string | undefined => {
    ws();
    if (!match(STRING)) return `a "key"${orClose}`;
    ws();
    if (text[i] !== ':') return '":"';
    i++;
    return undefined;
  };
  for (;;) {
    // A value is expected here.
    ws();
    const c = text[i];
    if (c === '{' || c === '[') {
      stack.push(c === '{' ? '}' : ']');
      i++;
      ws();
      if (text[i] === stack.at(-1)) {
        i++;
        stack.pop();
      } else {
        const expected = c === '{' ? key(' or }') : undefined;
        if (expected !== undefined) return fail(expected);
        continue;
      }
    } else if (!(c === '"' ? match(STRING) : c === '-' || (c !== undefined && c >= '0' && c <= '9') ? match(NUMBER) : match(LITERAL))) {
      return fail(c === '"' ? 'a string with valid escapes and no control characters' : 'a value');
    }
    // After a value: a separator, the end of a container, or the end of the text.
    for (;;) {
      ws();
      const close = stack.at(-1);
      if (close === undefined) return i < text.length ? fail('the end after the JSON value') : { offset: i, message: 'no error' };
      if (text[i] === close) {
        i++;
        stack.pop();
        continue;
      }
      if (text[i] === ',') {
        i++;
        const expected = close === '}' ? key('') : undefined;
        if (expected !== undefined) return fail(expected);
        break;
      }
      return fail(`, or ${close}`);
    }
  }
}
