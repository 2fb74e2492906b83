export interface Item { sku: string; count: number; tags?: string[]; meta?: { color?: string } }

export class Inventory<T extends { sku: string }> {
  #items: Map<string, T>;
  constructor(items: T[]) { this.#items = new Map(items.map((i) => [i.sku, i] as const)); }
  get size(): number { return this.#items.size; }
  all(): T[] { return [...this.#items.values()]; }
  find(pred: (item: T) => boolean): T[] { return this.all().filter(pred); }
}
