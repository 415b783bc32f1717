// A small static server for the embedding tests (node:http, loopback only, no dependencies):
// serves the package (target/pkg) under /pkg/, the Leptos host example's Trunk build under
// /leptos/ and the test pages (e2e/pages) at /, with a Content-Security-Policy header on every
// response, and counts the violation reports that browsers send to its report-uri.
//
//   const server = await startStaticServer({ port, csp: "default-src 'self'; …" });
//   server.origin, server.cspReports, await server.close()

import crypto from 'node:crypto';
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const ROOT = path.resolve(here, '..');
export const PKG = path.resolve(ROOT, process.env.EMBED_PKG || 'target/pkg');
export const PAGES = path.join(here, 'pages');
export const LEPTOS_DIST = path.resolve(ROOT, process.env.EMBED_LEPTOS_DIST || 'target/embed/leptos-host');

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm', // instantiateStreaming insists on it
  '.ts': 'text/plain; charset=utf-8',
  '.md': 'text/plain; charset=utf-8',
};

/** The strict policy of the embedding tests, plus what a page needs beyond 'self'. */
export function strictCsp({ wasm = true, connect = [], frames = [], ancestors = null, scriptHashes = [], reportUri = '/csp-report' } = {}) {
  const parts = [
    "default-src 'self'",
    ["script-src 'self'", ...(wasm ? ["'wasm-unsafe-eval'"] : []), ...scriptHashes].join(' '),
    "style-src 'self'",
  ];
  if (connect.length) parts.push(`connect-src 'self' ${connect.join(' ')}`);
  if (frames.length) parts.push(`frame-src ${frames.join(' ')}`);
  if (ancestors) parts.push(`frame-ancestors ${ancestors.join(' ')}`);
  if (reportUri) parts.push(`report-uri ${reportUri}`);
  return parts.join('; ');
}

/**
 * The CSP hashes of a Trunk page's inline scripts: Trunk's index.html starts the app with an
 * inline module script, so a host with a strict policy lists its hash (as this server does).
 */
export function inlineScriptHashes(html) {
  return [...html.matchAll(/<script\b[^>]*>([\s\S]*?)<\/script>/g)]
    .filter(([tag, body]) => body.trim() && !/\ssrc=/.test(tag.slice(0, tag.indexOf('>'))))
    .map(([, body]) => `'sha256-${crypto.createHash('sha256').update(body).digest('base64')}'`);
}

/** Maps a URL path to a file under /pkg/, /leptos/ or the pages folder; null if outside them. */
function resolveFile(urlPath) {
  let rel = decodeURIComponent(urlPath);
  let base = PAGES;
  for (const [prefix, dir] of [
    ['/pkg', PKG],
    ['/leptos', LEPTOS_DIST],
  ]) {
    if (rel === prefix || rel.startsWith(`${prefix}/`)) {
      base = dir;
      rel = rel.slice(prefix.length);
      break;
    }
  }
  if (rel === '' || rel.endsWith('/')) rel += 'index.html';
  const file = path.resolve(base, `.${rel}`);
  return file.startsWith(base + path.sep) ? file : null;
}

/**
 * The package's embed.html as a host deploys it: its `<meta name=...>` settings filled in
 * (`{ 'connect-ui-parent-origins': 'https://app.example', ... }`).
 */
export function configureEmbedPage(html, settings) {
  let out = html.toString('utf8');
  for (const [name, value] of Object.entries(settings)) {
    const re = new RegExp(`(<meta name="${name}" content=")[^"]*(")`);
    if (!re.test(out)) throw new Error(`embed.html has no <meta name="${name}">`);
    out = out.replace(re, (_, a, b) => `${a}${value}${b}`);
  }
  return Buffer.from(out, 'utf8');
}

/**
 * Starts a server on 127.0.0.1:`port` (0: any free port). `csp` is a string or a function of the
 * path; `transform(urlPath, data)`, if given, returns the bytes to send for a file found.
 */
export function startStaticServer({ port = 0, csp, transform }) {
  const cspReports = [];
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://127.0.0.1');
    if (req.method === 'POST' && url.pathname === '/csp-report') {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (chunk) => {
        if (body.length < 65536) body += chunk;
      });
      req.on('end', () => {
        try {
          cspReports.push(JSON.parse(body));
        } catch {
          cspReports.push({ unparsed: body });
        }
        res.writeHead(204).end();
      });
      return;
    }
    if (url.pathname === '/favicon.ico') {
      res.writeHead(204).end(); // browsers ask for it; a 404 would be a console error
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD' }).end();
      return;
    }
    const file = resolveFile(url.pathname);
    let data;
    try {
      data = file && fs.readFileSync(file);
    } catch {
      data = null;
    }
    if (data && transform) data = transform(url.pathname, data);
    const policy = typeof csp === 'function' ? csp(url.pathname, data) : csp;
    const headers = {
      'Cache-Control': 'no-store',
      'X-Content-Type-Options': 'nosniff',
      ...(policy ? { 'Content-Security-Policy': policy } : {}),
    };
    if (!data) {
      res.writeHead(404, { ...headers, 'Content-Type': 'text/plain' }).end('not found');
      return;
    }
    headers['Content-Type'] = TYPES[path.extname(file)] || 'application/octet-stream';
    res.writeHead(200, headers);
    res.end(req.method === 'HEAD' ? undefined : data);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      const origin = `http://127.0.0.1:${server.address().port}`;
      resolve({
        origin,
        cspReports,
        close: () =>
          new Promise((done) => {
            server.closeAllConnections?.();
            server.close(() => done());
          }),
      });
    });
  });
}
