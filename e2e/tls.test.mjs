// Installing from a real address, with no internet: a test ACME authority
// (pebble, with its DNS stand-in) issues Beatbook its certificate, or Caddy
// stands in front as a reverse proxy; Chromium reaches the domain name mapped
// to loopback and trusts the test root the way a browser profile does (its
// NSS database), and must find the app installable and able to start with
// the server stopped.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import tls from 'node:tls';

import { chromium } from 'playwright-core';

import {
  CHROMIUM_FLAGS, freePort, newProfileDir, openApp, startProgram, startServer, stopAfterTest,
  until, useBrowser, waitForWorker, watchErrors,
} from './helpers.mjs';

useBrowser();

const DOMAIN = 'beat.example.org';
/** How long the test authority's certificates are valid. */
const CERTIFICATE_SECONDS = 45;

/** A root and a certificate it signs for `localhost`, made with openssl. */
function localCertificate(dir) {
  const sh = (args) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  sh(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'ca.key',
    '-out', 'ca.pem', '-days', '2', '-subj', '/CN=Beatbook test root']);
  sh(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'key.pem',
    '-out', 'leaf.csr', '-subj', '/CN=localhost']);
  execFileSync('sh', ['-c', 'printf "subjectAltName=DNS:localhost,IP:127.0.0.1\\nbasicConstraints=CA:FALSE\\n" > ext.cnf'], { cwd: dir });
  sh(['x509', '-req', '-in', 'leaf.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'cert.pem',
    '-days', '2', '-extfile', 'ext.cnf']);
  return { ca: join(dir, 'ca.pem'), cert: join(dir, 'cert.pem'), key: join(dir, 'key.pem') };
}

/** Connects to `port` on loopback as `DOMAIN`, trusting only `ca`; resolves
 * when the certificate served verifies, with its fingerprint. */
function verifiedTls(port, ca) {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, servername: DOMAIN, ca, ALPNProtocols: ['h2', 'http/1.1'] }, () => {
      const protocol = socket.alpnProtocol;
      const fingerprint = socket.getPeerCertificate().fingerprint256;
      socket.end();
      resolve({ protocol, fingerprint });
    });
    socket.on('error', reject);
  });
}

/** A Chromium profile whose NSS database trusts `rootPem`, reaching
 * `DOMAIN` on loopback. */
async function trustingBrowser(rootPem) {
  const home = await mkdtemp(join(tmpdir(), 'beatbook-home-'));
  const nss = `sql:${join(home, '.pki', 'nssdb')}`;
  execFileSync('mkdir', ['-p', join(home, '.pki', 'nssdb')]);
  execFileSync('certutil', ['-d', nss, '-N', '--empty-password']);
  const root = join(home, 'root.pem');
  await writeFile(root, rootPem);
  execFileSync('certutil', ['-d', nss, '-A', '-n', 'Beatbook test root', '-t', 'C,,', '-i', root]);
  return stopAfterTest(await chromium.launchPersistentContext(await newProfileDir(), {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: [...CHROMIUM_FLAGS, `--host-resolver-rules=MAP ${DOMAIN} 127.0.0.1`],
    env: { ...process.env, HOME: home },
  }).then(watchErrors));
}

/** Opens the app at `url`, and asserts Chromium would install it. */
async function assertInstallable(context, url) {
  const page = await openApp(context, url);
  await waitForWorker(page);
  const cdp = await context.newCDPSession(page);
  const { installabilityErrors } = await cdp.send('Page.getInstallabilityErrors');
  assert.deepEqual(installabilityErrors, []);
  assert.equal(await page.evaluate(() => window.isSecureContext), true);
  await page.close();
}

/** With the server stopped, the app still starts and keeps a resident's report. */
async function assertStartsOffline(context, url) {
  const page = await context.newPage();
  await page.goto(url);
  await page.getByTestId('home-report').click();
  await page.getByTestId('kind-poor_lighting').check();
  await page.getByTestId('report-place').fill('Saved over HTTPS with the server stopped');
  await page.getByTestId('when-afterdark').check();
  await page.getByTestId('report-description').fill('The lamp is out');
  await page.getByTestId('send-report').click();
  await page.getByTestId('report-saved').getByText('Report saved on this phone').waitFor();
}

describe('install from a real address', () => {
  test('a certificate from an ACME authority: installable, and starts with the server stopped', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'beatbook-acme-'));
    const own = localCertificate(dir);
    const [acme, management, dns, challengePort, httpsPort] = await Promise.all([1, 2, 3, 4, 5].map(freePort));
    await writeFile(join(dir, 'pebble.json'), JSON.stringify({
      pebble: {
        listenAddress: `127.0.0.1:${acme}`,
        managementListenAddress: `127.0.0.1:${management}`,
        certificate: own.cert,
        privateKey: own.key,
        // Where the authority connects to check the HTTP-01 challenge: the
        // server's port 80, here on a free port.
        httpPort: challengePort,
        tlsPort: await freePort(),
        ocspResponderURL: '',
        externalAccountBindingRequired: false,
        // Short-lived certificates, so that a renewal happens during the
        // test: the server renews a third of the way before expiry.
        certificateValidityPeriod: CERTIFICATE_SECONDS,
      },
    }));
    startProgram('pebble-challtestsrv', ['-defaultIPv4', '127.0.0.1', '-defaultIPv6', '', '-dns01', `127.0.0.1:${dns}`,
      '-http01', '', '-https01', '', '-tlsalpn01', '', '-management', `127.0.0.1:${await freePort()}`]);
    const pebble = startProgram('pebble', ['-config', join(dir, 'pebble.json'), '-dnsserver', `127.0.0.1:${dns}`],
      { env: { PEBBLE_VA_NOSLEEP: '1', PEBBLE_WFE_NONCEREJECT: '0' } });
    const ca = await readFile(own.ca);
    await until('the test authority starts', () => new Promise((resolve, reject) => {
      https.get({ host: '127.0.0.1', port: acme, path: '/dir', servername: 'localhost', ca }, (r) => {
        r.resume();
        resolve(r.statusCode === 200);
      }).on('error', reject);
    }), 15_000).catch((e) => { throw new Error(`${e.message}\n${pebble.log()}`); });

    const server = await startServer({
      args: ['--domain', DOMAIN, '--acme-directory', `https://localhost:${acme}/dir`, '--acme-root', own.ca,
        '--acme-email', 'councillor@example.org',
        '--https-addr', `127.0.0.1:${httpsPort}`, '--http-addr', `127.0.0.1:${challengePort}`],
    });
    assert.equal(server.url, `https://${DOMAIN}:${httpsPort}`);
    const root = await until('the authority shows its root', () => new Promise((resolve, reject) => {
      https.get({ host: '127.0.0.1', port: management, path: '/roots/0', servername: 'localhost', ca }, (r) => {
        let body = '';
        r.on('data', (c) => { body += c; });
        r.on('end', () => resolve(r.statusCode === 200 && body));
      }).on('error', reject);
    }));
    // The certificate is issued by the authority and verifies under its root.
    const { protocol, fingerprint } = await until('the certificate is issued', () => verifiedTls(httpsPort, root))
      .catch((e) => { throw new Error(`${e.message}\n${pebble.log().slice(-3000)}`); });
    assert.equal(protocol, 'h2', 'HTTP/2 is agreed');

    const context = await trustingBrowser(root);
    await assertInstallable(context, server.url);

    // Before the first certificate expires, the running server has renewed
    // it and serves the new one: no restart.
    const renewed = await until('the certificate is renewed', async () => {
      const now = await verifiedTls(httpsPort, root);
      return now.fingerprint !== fingerprint && now;
    }, CERTIFICATE_SECONDS * 1000);
    assert.ok(renewed.fingerprint);
    const page = await context.newPage();
    await page.goto(server.url);
    await page.getByTestId('home-report').waitFor();
    await page.close();
    await server.stop();
    await assertStartsOffline(context, server.url);
  });

  test('behind Caddy: installable, each resident limited on their own, a forged header ignored', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'beatbook-caddy-'));
    const [appPort, httpsPort, httpPort] = await Promise.all([1, 2, 3].map(freePort));
    const server = await startServer({ args: ['--addr', `127.0.0.1:${appPort}`, '--trusted-proxy', '127.0.0.1/32'] });
    // deploy/Caddyfile as shipped, with Caddy's own test authority for the
    // certificate and this test's ports.
    const shipped = await readFile(new URL('../deploy/Caddyfile', import.meta.url), 'utf8');
    assert.ok(shipped.includes('beat.example.org {') && shipped.includes('127.0.0.1:8080'));
    await writeFile(join(dir, 'Caddyfile'), `{
  admin off
  auto_https disable_redirects
  skip_install_trust
  http_port ${httpPort}
  https_port ${httpsPort}
  storage file_system ${join(dir, 'caddy')}
}
${shipped
    .replace('beat.example.org {', `${DOMAIN}:${httpsPort} {\n\ttls internal`)
    .replaceAll('127.0.0.1:8080', `127.0.0.1:${appPort}`)}`);
    const caddy = startProgram('caddy', ['run', '--config', join(dir, 'Caddyfile'), '--adapter', 'caddyfile'],
      { env: { HOME: dir, XDG_DATA_HOME: dir, XDG_CONFIG_HOME: dir }, cwd: dir });
    const rootFile = join(dir, 'caddy', 'pki', 'authorities', 'local', 'root.crt');
    const root = await until('Caddy makes its root', () => readFile(rootFile, 'utf8'), 30_000)
      .catch((e) => { throw new Error(`${e.message}\n${caddy.log()}`); });
    await until('Caddy serves TLS', () => verifiedTls(httpsPort, root), 30_000)
      .catch((e) => { throw new Error(`${e.message}\n${caddy.log()}`); });
    const url = `https://${DOMAIN}:${httpsPort}`;

    const context = await trustingBrowser(root);
    await assertInstallable(context, url);

    // Two residents reach Caddy from their own addresses; each has a burst
    // of five reports, however many the other has sent.
    const report = () => JSON.stringify({
      report: {
        id: crypto.randomUUID(),
        created_at: new Date().toISOString(),
        kind: 'other',
        location: null,
        location_rounded: false,
        place: 'By the bus stop',
        when: 'after_dark',
        when_detail: null,
        description: 'The light by the stop is out',
        contact: null,
      },
    });
    const post = ({ secure, headers = {}, ...options }) => new Promise((resolve, reject) => {
      const body = report();
      const request = (secure ? https : http).request({
        method: 'POST',
        path: '/api/v1/reports',
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers },
        ...options,
      }, (r) => { r.resume(); r.on('end', () => resolve(r.statusCode)); });
      request.on('error', reject);
      request.end(body);
    });
    const viaCaddy = (localAddress) => post({
      secure: true, host: '127.0.0.1', port: httpsPort, servername: DOMAIN, ca: root, localAddress,
      headers: { host: `${DOMAIN}:${httpsPort}` },
    });
    for (let i = 0; i < 5; i++) assert.equal(await viaCaddy('127.0.0.2'), 200);
    assert.equal(await viaCaddy('127.0.0.2'), 429);
    assert.equal(await viaCaddy('127.0.0.3'), 200, 'another resident is not held back');

    // Straight to the server from an address that is not the proxy: the
    // header is anyone's forgery, and counts for nothing.
    const forged = (i) => post({
      host: '127.0.0.1', port: appPort, localAddress: '127.0.0.4',
      headers: { 'x-forwarded-for': `203.0.113.${i}` },
    });
    for (let i = 0; i < 5; i++) assert.equal(await forged(i), 200);
    assert.equal(await forged(99), 429);

    await server.stop();
    await assertStartsOffline(context, url);
  });
});
