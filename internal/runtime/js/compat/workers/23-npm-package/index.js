// Packages from node_modules: exports maps, the workerd condition, CJS.
import { Router } from 'tiny-router';
import leftPad from 'left-pad-lite';

const router = new Router();
router.get('/hello/:name', (req, params) => new Response(`hello ${params.name} from ${Router.flavor}`));
router.get('/pad/:n', (req, params) => new Response(leftPad(params.n, 6, '0')));

export default { fetch: (request) => router.handle(request) };
