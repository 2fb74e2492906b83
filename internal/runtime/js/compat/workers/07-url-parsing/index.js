// WHATWG URL parsing: resolution, normalization, hosts, encoding, setters.
const inputs = [
  ['../c/./d?x#y', 'https://example.com/a/b/'],
  ['//other.example:8080/p', 'https://example.com/'],
  ['HTTP://EXAMPLE.COM:80/%7Efoo/a b?q=a b#f g', undefined],
  ['https://münchen.example/straße', undefined],
  ['http://0x7f.1/', undefined],
  ['http://[::1]:3000/x', undefined],
  ['http://user:p%40ss@host.example/', undefined],
  ['mailto:someone@example.com', undefined],
  ['file:///etc/hosts', undefined],
  ['https://example.com/a/%2e%2E/b', undefined],
  ['?only=query', 'https://example.com/path/file'],
  ['not a url', undefined],
  ['https://exa mple.com/', undefined],
  ['http://1.2.3.4.5/', undefined],
];

export default {
  fetch() {
    const out = inputs.map(([input, base]) => {
      try {
        const u = new URL(input, base);
        return { input, href: u.href, origin: u.origin, protocol: u.protocol, username: u.username, password: u.password,
          host: u.host, hostname: u.hostname, port: u.port, pathname: u.pathname, search: u.search, hash: u.hash };
      } catch (e) {
        return { input, error: e.name };
      }
    });
    const u = new URL('https://example.com/a?x=1#h');
    u.pathname = '/b c';
    u.search = '?y=2&z=ä';
    u.hash = 'top';
    u.port = '8443';
    u.hostname = 'api.example.com';
    u.protocol = 'http';
    u.username = 'me';
    u.searchParams.append('w', '3');
    out.push({ mutated: u.href, json: JSON.stringify({ u }), canParse: [URL.canParse('x:'), URL.canParse('/x'), URL.canParse('/x', 'http://a')] });
    return Response.json(out);
  },
};
