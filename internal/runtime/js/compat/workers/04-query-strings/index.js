// Query string handling with URLSearchParams.
export default {
  fetch(request) {
    const url = new URL(request.url);
    const q = url.searchParams;
    const out = {
      size: q.size,
      tags: q.getAll('tag'),
      first: q.get('tag'),
      missing: q.get('missing'),
      hasEmpty: q.has('empty'),
      empty: q.get('empty'),
      space: q.get('space'),
      unicode: q.get('ü'),
      entries: [...q],
      keys: [...q.keys()],
    };
    q.append('added', 'a b&c=d');
    q.delete('empty');
    q.set('tag', 'only');
    q.sort();
    out.serialized = q.toString();
    out.href = url.href;
    out.search = url.search;
    const built = new URLSearchParams({ a: '1', b: 'two words', c: 'ä/€' });
    built.append('a', '2');
    out.built = built.toString();
    out.fromPairs = new URLSearchParams([['x', '1'], ['y', '=']]).toString();
    out.fromString = [...new URLSearchParams('?m=1&&n=%zz&o=%E2%82%AC&p')];
    return Response.json(out);
  },
};
