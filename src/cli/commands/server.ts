// `coffer server --dev` and `coffer server --config <file>`: runs the HSM server in this process.
// This is the one CLI command that does not talk to a running server; it is the server.

import { type ServerConfig, DEFAULT_CONFIG, loadConfig } from '../../server/config.js';
import { closeOnSignals, startServer } from '../../server/server.js';

export const SERVER_HELP = `Usage: coffer server (--dev | --config <file>) [--data <dir>] [--port <n>]

Runs the Coffer HSM server.

  --dev              development mode: SQLite store under ./data/dev, initialised on first start,
                     auto-unsealed from an INSECURE key file, accounts printed once
  --config <file>    production configuration (TOML; see docs/configuration.md)
  --data <dir>       data directory (overrides the configuration)
  --port <n>         listen port (overrides the configuration; 0 picks a free port)
`;

export async function serverCommand(args: string[]): Promise<number> {
  let dev = false;
  let configPath: string | undefined;
  let dataDir: string | undefined;
  let port: number | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--dev') dev = true;
    else if (a === '--config') configPath = args[++i];
    else if (a === '--data') dataDir = args[++i];
    else if (a === '--port') port = Number(args[++i]);
    else if (a === '--help' || a === '-h') {
      process.stdout.write(SERVER_HELP);
      return 0;
    } else {
      process.stderr.write(`coffer server: unknown option ${a}\n\n${SERVER_HELP}`);
      return 2;
    }
  }
  if (dev === (configPath !== undefined)) {
    process.stderr.write(`coffer server: give exactly one of --dev or --config\n\n${SERVER_HELP}`);
    return 2;
  }
  const config: ServerConfig = configPath ? loadConfig(configPath) : structuredClone(DEFAULT_CONFIG);
  if (dev && !dataDir) config.storage.dataDir = `${process.cwd()}/data/dev`;
  if (dataDir) config.storage.dataDir = dataDir;
  if (port !== undefined) {
    if (!Number.isSafeInteger(port) || port < 0 || port > 65535) {
      process.stderr.write('coffer server: --port must be 0–65535\n');
      return 2;
    }
    config.listen.port = port;
  }
  const server = await startServer({ config, dev });
  closeOnSignals(server);
  return new Promise<number>(() => {}); // runs until a signal closes it
}
