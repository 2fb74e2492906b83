// TypeScript: interfaces, enums, generics, classes with private fields,
// optional chaining and nullish coalescing.
import { Inventory, type Item } from './inventory';

enum Status { InStock = 'in-stock', Low = 'low', Out = 'out' }

interface Env { THRESHOLD: string }

function status(item: Item, threshold: number): Status {
  if (item.count === 0) return Status.Out;
  return item.count < threshold ? Status.Low : Status.InStock;
}

const inv = new Inventory<Item>([
  { sku: 'tent', count: 3, tags: ['camp'] },
  { sku: 'bike', count: 12 },
  { sku: 'kayak', count: 0, meta: { color: 'red' } },
]);

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const threshold = Number(env.THRESHOLD ?? 5);
    const sku = new URL(request.url).searchParams.get('sku');
    const items = sku ? inv.find((i) => i.sku === sku) : inv.all();
    return Response.json({
      threshold,
      size: inv.size,
      items: items.map((i) => ({ sku: i.sku, status: status(i, threshold), firstTag: i.tags?.[0] ?? null, color: i.meta?.color ?? 'n/a' })),
    });
  },
} satisfies ExportedHandler<Env>;
