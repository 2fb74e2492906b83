// Several ES modules: a router, handlers and helpers, with re-exports.
import { route } from './router.js';
import * as handlers from './handlers/index.js';
import formatMoney, { VERSION } from './util/format.js';

const table = route([
  ['GET', '/price', handlers.price],
  ['GET', '/version', () => new Response(VERSION)],
  ['GET', '/fmt', (req, url) => new Response(formatMoney(Number(url.searchParams.get('c'))))],
]);

export default { fetch: table };
