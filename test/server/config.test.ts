import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, DEFAULT_CONFIG, parseConfig } from '../../src/server/config.js';

test('an empty configuration is the documented defaults (paths resolved)', () => {
  const c = parseConfig('', '/srv');
  assert.deepEqual({ ...c, storage: { ...c.storage, dataDir: './data' } }, DEFAULT_CONFIG);
  assert.equal(c.storage.dataDir, '/srv/data');
});

test('every documented option parses, with snake_case keys and relative paths', () => {
  const c = parseConfig(
    `[listen]\naddress = "0.0.0.0"\nport = 8443\n[tls]\ncert = "c.pem"\nkey = "k.pem"\nclient_ca = "ca.pem"\n[storage]\nbackend = "memory"\ndata_dir = "/var/lib/coffer"\n[seal]\nkey_file = "mk"\n[security]\nlockout_threshold = 3\nkey_cache_size = 50\nsession_idle_seconds = 60\n[limits]\nbody_bytes = 1000\njson_depth = 8\nrate_per_second = 0\nrate_burst = 5\ntoken_ttl_seconds = 10\n[log]\nlevel = "warn"\n[metrics]\nenabled = false\n`,
    '/etc/coffer',
  );
  assert.deepEqual(c.listen, { address: '0.0.0.0', port: 8443 });
  assert.deepEqual(c.tls, { cert: '/etc/coffer/c.pem', key: '/etc/coffer/k.pem', clientCa: '/etc/coffer/ca.pem' });
  assert.equal(c.storage.backend, 'memory');
  assert.equal(c.seal.keyFile, '/etc/coffer/mk');
  assert.equal(c.security.lockoutThreshold, 3);
  assert.equal(c.limits.ratePerSecond, 0);
  assert.equal(c.log.level, 'warn');
  assert.equal(c.metrics.enabled, false);
});

test('typos and wrong types stop start-up with the key named', () => {
  const bad: [string, RegExp][] = [
    ['[listen]\nprot = 1', /listen\.prot/],
    ['[listn]\nport = 1', /\[listn\]/],
    ['[listen]\nport = 70000', /listen\.port/],
    ['[listen]\nport = "7700"', /listen\.port/],
    ['[storage]\nbackend = "postgres"', /storage\.backend/],
    ['[security]\nlockout_threshold = 0', /lockout_threshold/],
    ['[log]\nlevel = "loud"', /log\.level/],
    ['[tls]\ncert = "c.pem"', /needs both cert and key/],
    ['not toml = = =', /not valid TOML/],
    ['listen = 5', /must be a table/],
  ];
  for (const [text, re] of bad) assert.throws(() => parseConfig(text), (e: unknown) => e instanceof ConfigError && re.test(e.message), text);
});
