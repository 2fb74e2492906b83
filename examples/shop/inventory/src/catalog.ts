export interface Item {
  sku: string;
  name: string;
  dailyPrice: number; // cents
  stock: number; // what the shop starts with; the live count is in KV
}

export const catalog: Item[] = [
  { sku: 'bike-city', name: 'City bike', dailyPrice: 1500, stock: 12 },
  { sku: 'bike-ebike', name: 'E-bike', dailyPrice: 3500, stock: 5 },
  { sku: 'kayak-single', name: 'Single kayak', dailyPrice: 4000, stock: 3 },
  { sku: 'tent-2p', name: 'Two-person tent', dailyPrice: 1200, stock: 8 },
];

export function findItem(sku: string): Item | undefined {
  return catalog.find((i) => i.sku === sku);
}
