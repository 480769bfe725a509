/**
 * An in-memory stand-in for the DynamoDB item calls the Lambdas make (GetItem, PutItem, UpdateItem,
 * DeleteItem), for the state-machine tier (behind aws-sdk-client-mock) and the simulated-clock bench.
 * It evaluates DynamoDB's expression language as documented (Developer Guide, "Condition and filter
 * expressions" and "Update expressions"), for the subset the code uses: comparisons (=, <>, <, <=, >,
 * >=), attribute_exists / attribute_not_exists, AND / OR / NOT and parentheses in conditions; SET
 * (plain values), ADD (numbers, string sets) and REMOVE in updates; `#name` and `:value` placeholders.
 * Anything else throws, so code that starts using more of the language fails here instead of passing
 * on a wrong answer. The emulator tier runs the same code against moto's DynamoDB.
 */
import { ConditionalCheckFailedException, type AttributeValue } from '@aws-sdk/client-dynamodb';

type Item = Record<string, AttributeValue>;
type Names = Record<string, string> | undefined;
type Values = Record<string, AttributeValue> | undefined;

const failed = () => new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: { httpStatusCode: 400 } });

/** Tokens of an expression: names, placeholders, operators, parentheses, commas, keywords. */
function tokenize(expression: string): string[] {
  const tokens = expression.match(/<>|<=|>=|[=<>(),]|[#:]?[A-Za-z_][A-Za-z0-9_]*/g) ?? [];
  if (tokens.join('').length !== expression.replace(/\s+/g, '').length) throw new Error(`dynamodb-memory: cannot parse expression "${expression}"`);
  return tokens;
}

function resolveName(token: string, names: Names): string {
  if (token.startsWith('#')) {
    const name = names?.[token];
    if (name === undefined) throw new Error(`dynamodb-memory: no ExpressionAttributeNames entry for ${token}`);
    return name;
  }
  return token;
}

function scalar(value: AttributeValue | undefined): string | number | boolean | undefined {
  if (!value) return undefined;
  if (value.S !== undefined) return value.S;
  if (value.N !== undefined) return Number(value.N);
  if (value.BOOL !== undefined) return value.BOOL;
  throw new Error('dynamodb-memory: only S, N and BOOL values can be compared');
}

/** Evaluates a condition expression against `item` (undefined: no item). */
export function evaluateCondition(expression: string, item: Item | undefined, names: Names, values: Values): boolean {
  const tokens = tokenize(expression);
  let i = 0;
  const peek = () => tokens[i];
  const next = () => tokens[i++]!;
  const operand = (): AttributeValue | undefined => {
    const token = next();
    if (token.startsWith(':')) {
      const value = values?.[token];
      if (!value) throw new Error(`dynamodb-memory: no ExpressionAttributeValues entry for ${token}`);
      return value;
    }
    return item?.[resolveName(token, names)];
  };
  const primary = (): boolean => {
    const token = peek();
    if (token === '(') {
      next();
      const v = or();
      if (next() !== ')') throw new Error(`dynamodb-memory: unbalanced parentheses in "${expression}"`);
      return v;
    }
    if (token?.toUpperCase() === 'NOT') {
      next();
      return !primary();
    }
    if (token === 'attribute_exists' || token === 'attribute_not_exists') {
      next();
      if (next() !== '(') throw new Error(`dynamodb-memory: expected ( in "${expression}"`);
      const name = resolveName(next(), names);
      if (next() !== ')') throw new Error(`dynamodb-memory: expected ) in "${expression}"`);
      const exists = item !== undefined && item[name] !== undefined;
      return token === 'attribute_exists' ? exists : !exists;
    }
    const left = scalar(operand());
    const op = next();
    const right = scalar(operand());
    if (left === undefined || right === undefined) return op === '<>' && !(left === undefined && right === undefined);
    switch (op) {
      case '=':
        return left === right;
      case '<>':
        return left !== right;
      case '<':
        return left < right;
      case '<=':
        return left <= right;
      case '>':
        return left > right;
      case '>=':
        return left >= right;
      default:
        throw new Error(`dynamodb-memory: unsupported operator "${op}" in "${expression}"`);
    }
  };
  const and = (): boolean => {
    let v = primary();
    while (peek()?.toUpperCase() === 'AND') {
      next();
      const r = primary();
      v = v && r;
    }
    return v;
  };
  const or = (): boolean => {
    let v = and();
    while (peek()?.toUpperCase() === 'OR') {
      next();
      const r = and();
      v = v || r;
    }
    return v;
  };
  const result = or();
  if (i !== tokens.length) throw new Error(`dynamodb-memory: unexpected "${tokens[i]}" in "${expression}"`);
  return result;
}

/** Applies an update expression to a copy of `item`. */
export function applyUpdate(expression: string, item: Item, names: Names, values: Values): Item {
  const out: Item = { ...item };
  const clauses = expression.split(/\b(SET|ADD|REMOVE)\b/i).map((c) => c.trim()).filter(Boolean);
  for (let c = 0; c < clauses.length; c += 2) {
    const action = clauses[c]!.toUpperCase();
    const body = clauses[c + 1] ?? '';
    for (const part of body.split(',').map((p) => p.trim()).filter(Boolean)) {
      if (action === 'REMOVE') {
        delete out[resolveName(part, names)];
        continue;
      }
      const [rawName, rawValue] = action === 'SET' ? part.split(/\s*=\s*/) : part.split(/\s+/);
      const name = resolveName(rawName!, names);
      const value = values?.[rawValue ?? ''];
      if (!value) throw new Error(`dynamodb-memory: unsupported update "${part}"`);
      if (action === 'SET') out[name] = value;
      else if (value.SS) out[name] = { SS: [...new Set([...(out[name]?.SS ?? []), ...value.SS])] };
      else if (value.N !== undefined) out[name] = { N: String(Number(out[name]?.N ?? 0) + Number(value.N)) };
      else throw new Error(`dynamodb-memory: ADD takes a number or a set, not "${part}"`);
    }
  }
  return out;
}

/** One table per name, items by their key's JSON. */
export class MemoryDynamoDB {
  readonly tables = new Map<string, Map<string, Item>>();

  private table(name: string): Map<string, Item> {
    let table = this.tables.get(name);
    if (!table) this.tables.set(name, (table = new Map()));
    return table;
  }

  getItem(input: { TableName?: string; Key?: Item }) {
    const item = this.table(input.TableName!).get(JSON.stringify(input.Key));
    return item ? { Item: structuredClone(item) } : {};
  }

  putItem(input: { TableName?: string; Item?: Item; ConditionExpression?: string; ExpressionAttributeNames?: Names; ExpressionAttributeValues?: Values }, keyNames: string[]) {
    const key = JSON.stringify(Object.fromEntries(keyNames.map((k) => [k, input.Item![k]])));
    const table = this.table(input.TableName!);
    if (input.ConditionExpression && !evaluateCondition(input.ConditionExpression, table.get(key), input.ExpressionAttributeNames, input.ExpressionAttributeValues)) throw failed();
    table.set(key, structuredClone(input.Item!));
    return {};
  }

  updateItem(input: { TableName?: string; Key?: Item; UpdateExpression?: string; ConditionExpression?: string; ExpressionAttributeNames?: Names; ExpressionAttributeValues?: Values }) {
    const key = JSON.stringify(input.Key);
    const table = this.table(input.TableName!);
    const existing = table.get(key);
    if (input.ConditionExpression && !evaluateCondition(input.ConditionExpression, existing, input.ExpressionAttributeNames, input.ExpressionAttributeValues)) throw failed();
    table.set(key, applyUpdate(input.UpdateExpression ?? '', { ...(existing ?? input.Key!) }, input.ExpressionAttributeNames, input.ExpressionAttributeValues));
    return {};
  }

  /** Query on the hash key only (`<pk> = :value`), every item in one page. */
  query(input: { TableName?: string; KeyConditionExpression?: string; ExpressionAttributeNames?: Names; ExpressionAttributeValues?: Values }) {
    const m = /^\s*(#?\w+)\s*=\s*(:\w+)\s*$/.exec(input.KeyConditionExpression ?? '');
    if (!m) throw new Error(`dynamodb-memory: unsupported key condition "${input.KeyConditionExpression}"`);
    const name = resolveName(m[1]!, input.ExpressionAttributeNames);
    const value = input.ExpressionAttributeValues?.[m[2]!]?.S;
    return { Items: [...this.table(input.TableName!).values()].filter((item) => item[name]?.S === value).map((item) => structuredClone(item)) };
  }

  deleteItem(input: { TableName?: string; Key?: Item; ConditionExpression?: string; ExpressionAttributeNames?: Names; ExpressionAttributeValues?: Values }) {
    const key = JSON.stringify(input.Key);
    const table = this.table(input.TableName!);
    if (input.ConditionExpression && !evaluateCondition(input.ConditionExpression, table.get(key), input.ExpressionAttributeNames, input.ExpressionAttributeValues)) throw failed();
    table.delete(key);
    return {};
  }
}

/**
 * A DynamoDB client stand-in over `db` for step logic that takes `Pick<DynamoDBClient, 'send'>` (the
 * simulated-clock bench): each command is answered as {@link MemoryDynamoDB} answers it.
 */
export function memoryDynamoClient(db: MemoryDynamoDB, keyNames: (table: string | undefined) => string[] = () => ['pk']) {
  return {
    async send(command: { constructor: { name: string }; input: any }): Promise<any> {
      const { input } = command;
      switch (command.constructor.name) {
        case 'GetItemCommand':
          return db.getItem(input);
        case 'PutItemCommand':
          return db.putItem(input, keyNames(input.TableName));
        case 'UpdateItemCommand':
          return db.updateItem(input);
        case 'DeleteItemCommand':
          return db.deleteItem(input);
        case 'QueryCommand':
          return db.query(input);
        default:
          throw new Error(`dynamodb-memory: ${command.constructor.name} is not answered`);
      }
    },
  };
}
