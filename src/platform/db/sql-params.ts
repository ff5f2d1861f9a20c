/**
 * Positional parameters for SQL assembled from parts: each `add` returns the next `$n`, so a
 * fragment built by one module can be appended to a query built by another.
 */
export class SqlParams {
  readonly values: unknown[];

  constructor(initial: unknown[] = []) {
    this.values = [...initial];
  }

  add(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}

/** A WHERE condition over the messages alias `m`, given the parameters to add its values to. */
export type SqlCondition = (params: SqlParams) => string;
