interface OrderLine {
  sku: string;
  days: number;
}

interface Order {
  customer: string;
  lines: OrderLine[];
}

function validate(o: any): string | null {
  if (typeof o !== 'object' || o === null) return 'the order must be a JSON object';
  if (typeof o.customer !== 'string' || o.customer.trim() === '') return 'customer is required';
  if (!Array.isArray(o.lines) || o.lines.length === 0) return 'lines must be a non-empty array';
  for (const l of o.lines) {
    if (typeof l.sku !== 'string' || !Number.isInteger(l.days) || l.days < 1) {
      return 'each line needs a sku and a whole number of days';
    }
  }
  return null;
}

function orderId(): string {
  const t = Date.now().toString(36);
  const r = Math.floor(Math.random() * 36 ** 6).toString(36).padStart(6, '0');
  return `ord_${t}${r}`;
}

interface Queue {
  send(body: unknown, options?: { contentType?: string; delaySeconds?: number }): Promise<void>;
}

interface Env {
  ORDERS: Queue;
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname === '/api/orders' && request.method === 'POST') {
      let order: Order;
      try {
        order = await request.json();
      } catch {
        return Response.json({ error: 'the body must be JSON' }, { status: 400 });
      }
      const problem = validate(order);
      if (problem) return Response.json({ error: problem }, { status: 422 });
      const id = orderId();
      // The order is accepted once the queue has it; payments takes it from there.
      await env.ORDERS.send({ id, customer: order.customer, lines: order.lines, placed_at: new Date().toISOString() });
      console.log(`order ${id} from ${order.customer}: ${order.lines.length} line(s), queued for payment`);
      return Response.json({ id, status: 'accepted', lines: order.lines }, { status: 201, headers: { location: `/api/orders/${id}` } });
    }
    return Response.json({ error: `no such endpoint: ${request.method} ${url.pathname}` }, { status: 404 });
  },
};
