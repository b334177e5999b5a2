// `node dist/bench/payment-translate.js [--calls N] [--profile]`: the boundary's share of a host-command
// CC, without sockets. hsm.paymentTranslatePin (ZPK → ZPK, ISO 0 → ISO 0) over an in-memory store, in the
// dev server's setup (bench/hostcmd-server.ts), one call at a time; reports the mean wall and CPU
// microseconds per call, best of 5 rounds. `--profile` writes a V8 CPU profile of one round.

import { createCipheriv } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { DEFAULT_CONFIG, type ServerConfig } from '../src/server/config.js';
import { startServer } from '../src/server/server.js';
import { ZPK_A, ZPK_B } from './hostcmd-messages.js';

const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const CALLS = Number(arg('--calls') ?? 20_000);
const ROUNDS = 5;
const PAN = '4000001234560'; // the host-command account 400000123456 with its check digit slot

function iso0Block(): Buffer {
  const pan = Buffer.from(`0000${PAN.slice(0, -1).slice(-12)}`, 'hex');
  const clear = Buffer.from('041234FFFFFFFFFF', 'hex').map((x, i) => x ^ (pan[i] ?? 0));
  const c = createCipheriv('des-ede-ecb', Buffer.from(ZPK_A, 'hex'), null).setAutoPadding(false);
  return Buffer.concat([c.update(clear), c.final()]);
}

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'coffer-bench-translate-'));
  const config: ServerConfig = {
    ...structuredClone(DEFAULT_CONFIG),
    listen: { address: '127.0.0.1', port: 0 },
    storage: { backend: 'memory', dataDir },
    log: { level: 'silent' },
  };
  config.pkcs11 = { ...DEFAULT_CONFIG.pkcs11, enabled: false };
  config.hostcmd = { ...DEFAULT_CONFIG.hostcmd, enabled: false };
  const server = await startServer({ config, dev: true, print: () => {} });
  try {
    if (!server.dev) throw new Error('dev mode did not start');
    const s = server.dev.userSession;
    const make = (hex: string) => server.hsm.createObject(s, { class: 'secret-key', keyType: 'des2', value: Buffer.from(hex, 'hex'), token: true, keyUsage: 'P0' });
    const a = await make(ZPK_A);
    const b = await make(ZPK_B);
    const block = iso0Block();
    const round = async (n: number): Promise<{ wall: number; cpu: number }> => {
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      for (let i = 0; i < n; i++) {
        await server.hsm.paymentTranslatePin(s, { in: { key: a, format: 'ISO0', pinBlock: block, pan: PAN }, outKey: b, outFormat: 'ISO0' });
      }
      const c = process.cpuUsage(cpu0);
      return { wall: ((performance.now() - t0) * 1000) / n, cpu: (c.user + c.system) / n };
    };
    await round(Math.min(5_000, CALLS)); // warm-up: JIT, key cache
    if (process.argv.includes('--profile')) {
      const profiler = new Session();
      profiler.connect();
      await profiler.post('Profiler.enable');
      await profiler.post('Profiler.start');
      await round(CALLS);
      const { profile } = await profiler.post('Profiler.stop');
      const path = '/tmp/coffer-payment-translate.cpuprofile';
      writeFileSync(path, JSON.stringify(profile));
      profiler.disconnect();
      process.stdout.write(`CPU profile: ${path}\n`);
    }
    const rounds: { wall: number; cpu: number }[] = [];
    for (let r = 0; r < ROUNDS; r++) rounds.push(await round(CALLS));
    rounds.sort((x, y) => x.wall - y.wall);
    const best = rounds[0] as { wall: number; cpu: number };
    process.stdout.write(
      `paymentTranslatePin ISO0→ISO0, ${CALLS} calls × ${ROUNDS} rounds, load average ${loadavg()[0]?.toFixed(2)}: best ${best.wall.toFixed(1)} µs/call wall (${Math.round(1e6 / best.wall).toLocaleString('en')}/s), ${best.cpu.toFixed(1)} µs CPU; rounds ${rounds.map((r) => r.wall.toFixed(1)).join(' ')} µs\n`,
    );
  } finally {
    await server.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
