export default {
  async fetch(request, env) {
    return Response.json({
      shop: env.SHOP_NAME,
      generated_at: new Date().toISOString(),
      note: 'daily totals arrive here once orders are queued (see docs/roadmap)',
    });
  },
};
